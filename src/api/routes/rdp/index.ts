// RDP through the API: a .rdp file with a one-time ticket for the RDP gateway. Register inside the
// /api/v1 scope, after the auth hook (e.g. `registerRdpRoutes(api, s)` next to the other route modules).
//   POST /rdp/tickets {device, account?, reason?}: decide(); asks for approval when needed (202 with the
//        waiting request, which the console follows like My Approvals), else 200 with the ticket and file.
//   GET  /rdp/file?device=&account=: the .rdp download (application/x-rdp) when access is allowed now;
//        never creates a request (a link must not ask for approval); 409 approval_required otherwise.
// A missing device and a forbidden one give the same 404.
import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import { levelApprovers } from '../../../core/approvals/rules.js';
import type { Services } from '../../../services.js';
import { issueTicket, type IssueResult } from '../../../protocols/rdp/index.js';
import { callerOf } from '../context.js';
import { Nullable, errors } from '../../schemas.js';

const Target = Type.Object({
  device: Type.String({ minLength: 1, maxLength: 64 }),
  account: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
});
const Allowed = Type.Object({
  outcome: Type.Literal('allowed'),
  device: Type.String(),
  account: Type.String(),
  approvalId: Nullable(Type.Integer()),
  expiresAt: Type.String({ format: 'date-time' }),
  /** Single use, 60 s to start the connection: it is this user's, shown only to them. */
  ticket: Type.String(),
  filename: Type.String(),
  file: Type.String(),
});
const Waiting = Type.Object({ outcome: Type.Literal('waiting'), requestId: Type.Integer(), created: Type.Boolean(), approvers: Type.Array(Type.String()) });

const filename = (device: string) => `${device.replace(/[^A-Za-z0-9._-]/g, '_')}.rdp`;

function allowedView(r: Extract<IssueResult, { outcome: 'allowed' }>) {
  return { outcome: 'allowed' as const, device: r.device, account: r.account, approvalId: r.approvalId, expiresAt: new Date(r.expiresAt).toISOString(), ticket: r.ticket, filename: filename(r.device), file: r.file };
}

export async function registerRdpRoutes(app: FastifyInstance, s: Services): Promise<void> {
  app.post(
    '/rdp/tickets',
    {
      config: { allow: 'user' },
      schema: {
        tags: ['connect'],
        summary: 'Connect over RDP: a one-time ticket and .rdp file, or the approval request it waits for',
        body: Type.Intersect([Target, Type.Object({ reason: Type.Optional(Type.String({ maxLength: 500 })) })]),
        response: { 200: Allowed, 202: Waiting, ...errors },
      },
    },
    async (req, reply) => {
      const c = callerOf(req);
      const b = req.body as { device: string; account?: string; reason?: string };
      const r = await issueTicket(s, { username: c.user.username, device: b.device, account: b.account, reason: b.reason, clientAddr: req.ip, channel: c.channel });
      if (r.outcome === 'allowed') return allowedView(r);
      if (r.outcome === 'waiting') {
        const p = await s.policy.current();
        const approvers = levelApprovers(r.request, r.request.currentLevel).map((id) => p.usersById.get(id)?.username ?? `#${id}`);
        return reply.status(202).send({ outcome: 'waiting', requestId: r.request.id, created: r.created, approvers });
      }
      return reply.status(409).send({ error: { code: 'approval_required', message: r.why } });
    },
  );

  app.get(
    '/rdp/file',
    {
      config: { allow: 'user' },
      schema: {
        tags: ['connect'],
        summary: 'Download a .rdp file (one-time ticket) when RDP access to the device is allowed now',
        querystring: Target,
        response: { 200: Type.String(), ...errors },
      },
    },
    async (req, reply) => {
      const c = callerOf(req);
      const q = req.query as { device: string; account?: string };
      const r = await issueTicket(s, { username: c.user.username, device: q.device, account: q.account, clientAddr: req.ip, channel: c.channel, mayRequest: false });
      if (r.outcome !== 'allowed') return reply.status(409).send({ error: { code: 'approval_required', message: `approval is required before connecting: ask for it first (${r.outcome === 'approval-required' ? r.why : 'waiting'})` } });
      return reply
        .header('content-type', 'application/x-rdp; charset=utf-8')
        .header('content-disposition', `attachment; filename="${filename(r.device)}"`)
        .header('cache-control', 'no-store')
        .send(r.file);
    },
  );
}
