// Access rules: user group x device group x protocols. No rule, no connection.
import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import { presentAccessRule } from '../../../presenters/index.js';
import { Ok, errors } from '../schema.js';
import { AccessRule, AccessRuleIn, AccessRulePair } from './schema.js';
import { actorOf, type Ctx } from '../context.js';

export async function accessRuleRoutes(app: FastifyInstance, { s }: Ctx) {
  app.get(
    '/access-rules',
    {
      schema: {
        tags: ['access rules'],
        summary: 'All access rules',
        response: { 200: Type.Object({ items: Type.Array(AccessRule) }), ...errors },
      },
    },
    async () => {
      const p = await s.policy.current();
      return { items: p.data.accessRules.map((r) => presentAccessRule(p, r)) };
    },
  );

  app.put(
    '/access-rules/:userGroup/:deviceGroup',
    {
      schema: {
        tags: ['access rules'],
        summary: 'Grant (or change) access of a user group to a device group',
        params: AccessRulePair,
        body: AccessRuleIn,
        response: { 200: AccessRule, ...errors },
      },
    },
    async (req) => {
      const { userGroup, deviceGroup } = req.params as { userGroup: string; deviceGroup: string };
      const b = req.body as { protocols: string[]; allowPortForwarding?: boolean };
      const id = await s.admin.grantAccess(actorOf(req), userGroup, deviceGroup, b.protocols, b.allowPortForwarding ?? false);
      const p = await s.policy.current();
      return presentAccessRule(
        p,
        p.data.accessRules.find((r) => r.id === id)!,
      );
    },
  );

  app.delete(
    '/access-rules/:userGroup/:deviceGroup',
    { schema: { tags: ['access rules'], summary: 'Remove an access rule', params: AccessRulePair, response: { 200: Ok, ...errors } } },
    async (req, reply) => {
      const { userGroup, deviceGroup } = req.params as { userGroup: string; deviceGroup: string };
      if (!(await s.admin.revokeAccess(actorOf(req), userGroup, deviceGroup)))
        return reply.status(404).send({ error: { code: 'not_found', message: `no access rule for '${userGroup}' to '${deviceGroup}'` } });
      return { ok: true };
    },
  );
}
