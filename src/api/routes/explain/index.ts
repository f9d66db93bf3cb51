// The administrator's policy explain: what decide() answers for a user and a device, and for a denial
// its real cause. Users never get this (they see one answer for unknown and forbidden), so the route
// is for administrators only, like `gatehouse policy explain`.
import type { FastifyInstance } from 'fastify';
import { presentDecision } from '../../../presenters/index.js';
import type { Protocol } from '../../../core/types.js';
import { errors } from '../schema.js';
import { ExplainQuery, Explained } from './schema.js';
import type { Ctx } from '../context.js';

export async function explainRoutes(app: FastifyInstance, { s }: Ctx) {
  app.get(
    '/policy/explain',
    {
      schema: {
        tags: ['policy'],
        summary: 'Admin: decide() for a user and a device, with the real cause of a denial and who approves',
        querystring: ExplainQuery,
        response: { 200: Explained, ...errors },
      },
    },
    async (req) => {
      const q = req.query as { user: string; device: string; protocol: Protocol; account?: string };
      const d = await s.approvals.decide(q.user, q.device, q.protocol, q.account);
      const view = presentDecision(await s.policy.current(), d);
      const reason = d.outcome === 'denied' ? await s.approvals.denialReason(q.user, q.device, q.protocol, q.account) : null;
      const grant = await s.approvals.grantCoverage(q.user, q.device, q.protocol);
      return {
        outcome: view.outcome,
        why: view.why,
        reason,
        approverManager: 'approverManager' in view ? view.approverManager : [],
        noEligibleApprover: 'noEligibleApprover' in view ? view.noEligibleApprover : false,
        requesterIsApprover: 'requesterIsApprover' in view ? view.requesterIsApprover : false,
        route: 'route' in view ? view.route : null,
        grantScope: grant.scope,
        grantCovers: grant.covers,
      };
    },
  );
}
