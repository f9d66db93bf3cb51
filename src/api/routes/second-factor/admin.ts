// The administrator's second-factor switches: reset a user's (a lost phone), require it of a user
// group's members, or of everyone who may approve.
import type { FastifyInstance } from 'fastify';
import { directoryOf } from '../../../directory/index.js';
import { callerOf, type Ctx } from '../context.js';
import { Ok, errors } from '../schema.js';
import { ApproversRequired, SecondFactorGroup, GroupRequired, RequiredIn, SecondFactorUser } from './schema.js';

function secondFactorResetRoute(app: FastifyInstance, { s }: Ctx) {
  const { totp } = directoryOf(s);

  app.delete(
    '/users/:username/second-factor',
    {
      schema: {
        tags: ['second factor'],
        summary: "Admin: remove a user's second factor (a lost phone); they enrol again at next login if required",
        params: SecondFactorUser,
        response: { 200: Ok, ...errors },
      },
    },
    async (req, reply) => {
      const c = callerOf(req);
      const u = (await s.policy.current()).usersByName.get((req.params as { username: string }).username);
      if (!u) return reply.status(404).send({ error: { code: 'not_found', message: 'user not found' } });
      const removed = await totp.disable(u.id);
      await s.audit({
        actor: c.user.username,
        actorId: c.user.id,
        channel: c.channel,
        action: 'totp.disabled',
        targetType: 'user',
        targetId: u.id,
        details: { username: u.username, removed },
      });
      return { ok: true };
    },
  );
}

function secondFactorRequiredRoutes(app: FastifyInstance, { s }: Ctx) {
  const { directory } = directoryOf(s);

  app.put(
    '/user-groups/:name/second-factor',
    {
      schema: {
        tags: ['second factor'],
        summary: "Admin: require (or not) the second factor of a user group's members",
        params: SecondFactorGroup,
        body: RequiredIn,
        response: { 200: GroupRequired, ...errors },
      },
    },
    async (req, reply) => {
      const c = callerOf(req);
      const name = (req.params as { name: string }).name;
      const g = (await s.policy.current()).userGroupsByName.get(name);
      if (!g) return reply.status(404).send({ error: { code: 'not_found', message: `user group '${name}' not found` } });
      const required = (req.body as { required: boolean }).required;
      await directory.store.setSecondFactorGroup(g.id, required, s.clock.now());
      await s.audit({
        actor: c.user.username,
        actorId: c.user.id,
        channel: c.channel,
        action: 'user-group.second-factor',
        targetType: 'user-group',
        targetId: g.id,
        details: { group: name, required },
      });
      return { group: name, required };
    },
  );

  app.put(
    '/second-factor/approvers',
    {
      schema: {
        tags: ['second factor'],
        summary: 'Admin: require the second factor of everyone who may approve (asked at console login, so every decision follows it)',
        body: RequiredIn,
        response: { 200: ApproversRequired, ...errors },
      },
    },
    async (req) => {
      const c = callerOf(req);
      const required = (req.body as { required: boolean }).required;
      await directory.store.setApproversNeedSecondFactor(required);
      await s.audit({
        actor: c.user.username,
        actorId: c.user.id,
        channel: c.channel,
        action: 'second-factor.approvers',
        details: { required },
      });
      return { required };
    },
  );
}

export async function secondFactorAdminRoutes(app: FastifyInstance, ctx: Ctx) {
  secondFactorResetRoute(app, ctx);
  secondFactorRequiredRoutes(app, ctx);
}
