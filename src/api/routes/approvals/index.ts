// Approval requests: my requests, what waits for me, what I decided; request (now or ahead), approve,
// reject, cancel, revoke, escalate. Every transition goes through the approval engine, which checks
// eligibility, four eyes and races itself; the record rules in policy.ts decide who sees what.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { GatehouseError } from '../../../core/errors.js';
import type { ApprovalRequest, ApprovalStatus, Protocol as ProtocolT } from '../../../core/types.js';
import { isAdmin, proofOf, type Caller } from '../../policy.js';
import type { ApprovalScope } from '../../store.js';
import { ById, errors, list } from '../schema.js';
import {
  Approval,
  ApprovalAsked,
  ApprovalComment,
  ApprovalDetail,
  ApprovalListQuery,
  ApprovalPasskey,
  NewApprovalRequest,
} from './schema.js';
import { callerOf, nextBefore, type Ctx } from '../context.js';
import { approvalViews, type ApprovalViews } from './views.js';

export async function approvalRoutes(app: FastifyInstance, ctx: Ctx) {
  const { s, store } = ctx;
  // New and escalated requests change who is named where: the approver index re-reads on the next list.
  const off = s.bus.subscribe((e) => {
    if (e.type === 'approval.created' || e.type === 'approval.escalated') store.markDirty();
  });
  app.addHook('onClose', async () => {
    off();
  });
  const views = approvalViews(ctx);
  readRoutes(app, ctx, views);
  askRoute(app, ctx, views);
  decisionRoutes(app, ctx, views);
}

function readRoutes(app: FastifyInstance, { s, store }: Ctx, { acting, show, visible, recent }: ApprovalViews) {
  app.get(
    '/approvals',
    {
      config: { allow: 'user' },
      schema: {
        tags: ['approvals'],
        summary:
          "Approval requests, newest first: scope 'mine' (My Approvals), 'to-decide' (waiting for me), 'decided' (my history), 'all' (admins)",
        querystring: ApprovalListQuery,
        response: { 200: list(Approval), ...errors },
      },
    },
    async (req) => {
      const c = callerOf(req);
      const q = req.query as { scope?: ApprovalScope; status?: ApprovalStatus; beforeId?: number; limit?: number };
      const scope = q.scope ?? (isAdmin(c) ? 'all' : 'mine');
      if (scope === 'all' && !isAdmin(c))
        throw new GatehouseError('forbidden', "only administrators may list all requests; use scope 'mine', 'to-decide' or 'decided'");
      const limit = q.limit ?? 50;
      const ids = await acting(c);
      if (scope === 'to-decide' && !isAdmin(c)) await store.syncApproverIndex(s.clock.now());
      const rows = await store.listApprovals({
        scope,
        userId: c.user.id,
        approverIds: ids,
        admin: isAdmin(c),
        status: q.status,
        beforeId: q.beforeId,
        limit,
      });
      const items = [];
      for (const r of rows) items.push(await show(c, r, ids));
      return { items, nextBeforeId: nextBefore(rows, limit) };
    },
  );

  app.get(
    '/approvals/:id',
    {
      config: { allow: 'user' },
      schema: {
        tags: ['approvals'],
        summary: "One request with its decisions and the requester's recent requests for the same device",
        params: ById,
        response: { 200: ApprovalDetail, ...errors },
      },
    },
    async (req) => {
      const c = callerOf(req);
      const { r, ids } = await visible(c, (req.params as { id: number }).id);
      return { ...(await show(c, r, ids, true)), recent: await recent(r) };
    },
  );
}

function askRoute(app: FastifyInstance, { s }: Ctx, { acting, show }: ApprovalViews) {
  app.post(
    '/approvals',
    {
      config: { allow: 'user' },
      schema: {
        tags: ['approvals'],
        summary: 'Ask for access to a device: now, or ahead with start and end (a reservation)',
        body: NewApprovalRequest,
        response: { 200: ApprovalAsked, 201: ApprovalAsked, ...errors },
      },
    },
    async (req, reply) => {
      const c = callerOf(req);
      const b = req.body as { device: string; account?: string; protocol: ProtocolT; reason?: string; start?: string; end?: string };
      const res = await s.approvals.request({
        username: c.user.username,
        device: b.device,
        account: b.account,
        protocol: b.protocol,
        reason: b.reason,
        start: b.start ? Date.parse(b.start) : undefined,
        end: b.end ? Date.parse(b.end) : undefined,
        clientAddr: req.ip,
        channel: c.channel,
        proof: proofOf(c),
      });
      const request = 'request' in res && res.request ? await show(c, res.request, await acting(c)) : null;
      return reply
        .status(res.outcome !== 'allowed' && res.created ? 201 : 200)
        .send({ outcome: res.outcome, why: res.decision.why, request });
    },
  );
}

function decisionRoutes(app: FastifyInstance, { s }: Ctx, { acting, show }: ApprovalViews) {
  const action = (
    name: string,
    summary: string,
    body: boolean,
    run: (id: number, c: Caller, comment: string | undefined, passkey: unknown) => Promise<ApprovalRequest>,
  ) =>
    app.post(
      `/approvals/:id/${name}`,
      {
        config: { allow: 'user' },
        schema: {
          tags: ['approvals'],
          summary,
          params: ById,
          body: body ? ApprovalComment : ApprovalPasskey,
          response: { 200: Approval, ...errors },
        },
      },
      async (req: FastifyRequest) => {
        const c = callerOf(req);
        const { id } = req.params as { id: number };
        const b = req.body as { comment?: string; passkey?: unknown } | undefined;
        const r = await run(id, c, b?.comment, b?.passkey);
        return show(c, r, await acting(c), true);
      },
    );

  // The engine checks the second factor with each decision, from the caller's proof.
  // With approval.decision.requires.passkey, `passkey` is the assertion made for this action on this request.
  action('approve', 'Approve (the current level of) a request', true, (id, c, comment, passkey) =>
    s.approvals.approve(id, c.user.username, { comment, channel: c.channel, proof: proofOf(c), passkey }),
  );
  action(
    'reject',
    'Reject a request, with a comment (required when approval.reject.comment.required)',
    true,
    async (id, c, comment, passkey) => {
      return s.approvals.reject(id, c.user.username, { comment, channel: c.channel, proof: proofOf(c), passkey });
    },
  );
  action('cancel', 'Cancel my waiting request', false, (id, c, _, passkey) =>
    s.approvals.cancel(id, c.user.username, c.channel, proofOf(c), passkey),
  );
  action('revoke', 'Revoke an approved request: its live sessions end', true, (id, c, comment, passkey) =>
    s.approvals.revoke(id, c.user.username, { comment, channel: c.channel, proof: proofOf(c), passkey }),
  );
  action('escalate', "Escalate a waiting request to the next level's approvers (or the admins)", false, (id, c, _, passkey) =>
    s.approvals.escalate(id, c.user.username, c.channel, proofOf(c), passkey),
  );
}
