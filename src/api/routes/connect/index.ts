// Connect: the devices I may reach and, per protocol, how: the exact ssh command, the HTTP app link,
// and what approval it needs (who decides: the Approver Manager).
import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import { presentTarget, presentWay } from '../../../presenters/connect.js';
import { errors } from '../schema.js';
import { ConnectTarget } from './schema.js';
import { callerOf, type Ctx, publicHost } from '../context.js';

export async function connectRoutes(app: FastifyInstance, { s }: Ctx) {
  const host = publicHost(s);
  const startOf = (pr: string, user: string, device: string) => ({
    command:
      pr === 'ssh'
        ? `ssh -p ${s.config.sshPort} ${user}@${device}@${host}`
        : pr === 'sftp'
          ? `sftp -P ${s.config.sshPort} ${user}@${device}@${host}`
          : pr === 'postgres'
            ? `psql "host=${host} port=${s.config.postgresPort} user=${user}@${device} sslmode=require"`
            : pr === 'mysql'
              ? `mysql -h ${host} -P ${s.config.mysqlPort} -u ${user}@${device} --ssl`
              : null,
    link: pr === 'http' ? `http://${device}.localhost:${s.config.httpProxyPort}/` : null,
  });

  app.get(
    '/connect',
    {
      config: { allow: 'user' },
      schema: {
        tags: ['connect'],
        summary: 'Devices I may reach, and how to connect to each',
        response: { 200: Type.Object({ items: Type.Array(ConnectTarget) }), ...errors },
      },
    },
    async (req) => {
      const me = callerOf(req).user;
      const p = await s.policy.current();
      // A request already waiting is shown where the user would connect: connecting again reuses it.
      const waiting = await s.store.listRequests({ requesterId: me.id, status: 'waiting', limit: 500 });
      const waitingFor = (deviceId: number, pr: string) => {
        const r = waiting.find((w) => w.deviceId === deviceId && w.protocol === pr);
        return r ? { id: r.id, expiresAt: r.expiresAt === null ? null : new Date(r.expiresAt).toISOString() } : null;
      };
      const items = [];
      for (const d of [...p.devicesById.values()].sort((a, b) => a.name.localeCompare(b.name))) {
        const ways = [];
        for (const pr of d.protocols) {
          const dec = await s.approvals.decide(me.username, d.name, pr);
          if (dec.outcome !== 'denied')
            ways.push({ ...presentWay(p, pr, dec, startOf(pr, me.username, d.name)), waiting: waitingFor(d.id, pr) });
        }
        if (ways.length) items.push(presentTarget(p, d, ways));
      }
      return { items };
    },
  );
}
