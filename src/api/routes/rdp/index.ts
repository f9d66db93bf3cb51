// RDP through the API: a .rdp file with a one-time ticket for the RDP gateway. Register inside the
// /api/v1 scope, after the auth hook, like the other route modules.
//   POST /rdp/tickets {device, account?, reason?}: decide(); asks for approval when needed (202 with the
//        waiting request, which the console follows like My Approvals), else 200 with the ticket and file.
//   GET  /rdp/file?device=&account=: the .rdp download (application/x-rdp) when access is allowed now;
//        never creates a request (a link must not ask for approval); 409 approval_required otherwise.
// A missing device and a forbidden one give the same 404.
import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import { presentRdpTicket, presentRdpWaiting, rdpFilename } from '../../../presenters/rdp.js';
import { issueTicket } from '../../../protocols/rdp/index.js';
import { callerOf, type Ctx } from '../context.js';
import { errors } from '../schema.js';
import { RdpAllowed, RdpTarget, RdpTicketAsk, RdpWaiting } from './schema.js';

export async function rdpRoutes(app: FastifyInstance, { s }: Ctx): Promise<void> {
  app.post(
    '/rdp/tickets',
    {
      config: { allow: 'user' },
      schema: {
        tags: ['connect'],
        summary: 'Connect over RDP: a one-time ticket and .rdp file, or the approval request it waits for',
        body: RdpTicketAsk,
        response: { 200: RdpAllowed, 202: RdpWaiting, ...errors },
      },
    },
    async (req, reply) => {
      const c = callerOf(req);
      const b = req.body as { device: string; account?: string; reason?: string };
      const r = await issueTicket(s, {
        username: c.user.username,
        device: b.device,
        account: b.account,
        reason: b.reason,
        clientAddr: req.ip,
        channel: c.channel,
      });
      if (r.outcome === 'allowed') return presentRdpTicket(r);
      if (r.outcome === 'waiting') {
        return reply.status(202).send(presentRdpWaiting(await s.policy.current(), r.request, r.created));
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
        querystring: RdpTarget,
        response: { 200: Type.String(), ...errors },
      },
    },
    async (req, reply) => {
      const c = callerOf(req);
      const q = req.query as { device: string; account?: string };
      const r = await issueTicket(s, {
        username: c.user.username,
        device: q.device,
        account: q.account,
        clientAddr: req.ip,
        channel: c.channel,
        mayRequest: false,
      });
      if (r.outcome !== 'allowed')
        return reply.status(409).send({
          error: {
            code: 'approval_required',
            message: `approval is required before connecting: ask for it first (${r.outcome === 'approval-required' ? r.why : 'waiting'})`,
          },
        });
      return reply
        .header('content-type', 'application/x-rdp; charset=utf-8')
        .header('content-disposition', `attachment; filename="${rdpFilename(r.device)}"`)
        .header('cache-control', 'no-store')
        .send(r.file);
    },
  );
}
