// Connect: the devices I may reach and, per protocol, how: the exact ssh command, the HTTP app link,
// and what approval it needs (who decides: the Approver Manager).
import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import { presentDecision } from '../../../presenters/index.js';
import { errors } from '../schema.js';
import { ConnectTarget } from './schema.js';
import { callerOf, type Ctx, publicHost } from '../context.js';

export async function connectRoutes(app: FastifyInstance, { s }: Ctx) {
  const host = publicHost(s);

  app.get('/connect', { config: { allow: 'user' }, schema: { tags: ['connect'], summary: 'Devices I may reach, and how to connect to each', response: { 200: Type.Object({ items: Type.Array(ConnectTarget) }), ...errors } } }, async (req) => {
    const me = callerOf(req).user;
    const p = await s.policy.current();
    const items = [];
    for (const d of [...p.devicesById.values()].sort((a, b) => a.name.localeCompare(b.name))) {
      const ways = [];
      for (const pr of d.protocols) {
        const dec = await s.approvals.decide(me.username, d.name, pr);
        if (dec.outcome === 'denied') continue;
        const shown = presentDecision(p, dec) as { approverManager?: string[]; noEligibleApprover?: boolean };
        const command =
          pr === 'ssh' ? `ssh -p ${s.config.sshPort} ${me.username}@${d.name}@${host}` : pr === 'sftp' ? `sftp -P ${s.config.sshPort} ${me.username}@${d.name}@${host}` : null;
        const link = pr === 'http' ? `http://${d.name}.localhost:${s.config.httpProxyPort}/` : null;
        ways.push({
          protocol: pr,
          outcome: dec.outcome,
          why: dec.why,
          requireReason: dec.outcome === 'approval-required' && dec.requireReason,
          approverManager: shown.approverManager ?? [],
          noEligibleApprover: shown.noEligibleApprover ?? false,
          command,
          link,
        });
      }
      if (ways.length)
        items.push({ device: d.name, group: d.groupId === null ? null : (p.deviceGroupsById.get(d.groupId)?.name ?? null), accounts: (p.accountsOfDevice.get(d.id) ?? []).map((a) => a.name), ways });
    }
    return { items };
  });
}
