// My own second factor: its state, enrolment (from the console only) with a QR code, and turning it off.
// Every code check first reserves an attempt in the shared login limiter (core/limiter.ts).
import type { FastifyInstance } from 'fastify';
import { directoryOf } from '../../../directory/index.js';
import { presentEnrolment } from '../../../presenters/second-factor.js';
import { deny } from '../../auth.js';
import { limited } from '../../limited.js';
import { mayEnrolSecondFactor } from '../../policy.js';
import { callerOf, type Ctx } from '../context.js';
import { Ok, errors } from '../schema.js';
import { CodeOnly, Enrolment, MySecondFactor, RecoveryCodes } from './schema.js';

function mySecondFactorStartRoutes(app: FastifyInstance, { s }: Ctx) {
  const { totp } = directoryOf(s);

  app.get(
    '/me/second-factor',
    {
      config: { allow: 'user' },
      schema: { tags: ['second factor'], summary: 'My second factor', response: { 200: MySecondFactor, ...errors } },
    },
    async (req) => {
      const u = callerOf(req).user;
      return {
        enrolled: await totp.enrolled(u.id),
        required: await totp.requiredByGroup(u),
        recoveryCodesLeft: await totp.recoveryLeft(u.id),
      };
    },
  );

  app.post(
    '/me/second-factor',
    {
      config: { allow: 'user' },
      schema: {
        tags: ['second factor'],
        summary: 'Start enrolment: a new secret and its QR code (not in force until confirmed)',
        response: { 200: Enrolment, ...errors },
      },
    },
    async (req, reply) => {
      const c = callerOf(req);
      if (!mayEnrolSecondFactor(c)) return deny(reply, 403, 'forbidden', 'enrol from the console, not with an API token');
      if (await totp.enrolled(c.user.id))
        return reply
          .status(409)
          .send({ error: { code: 'conflict', message: 'a second factor is already set up: remove it first (with a code)' } });
      const e = presentEnrolment(await totp.begin(c.user));
      await s.audit({
        actor: c.user.username,
        actorId: c.user.id,
        channel: c.channel,
        action: 'totp.enrol-started',
        targetType: 'user',
        targetId: c.user.id,
      });
      return e;
    },
  );
}

function mySecondFactorCodeRoutes(app: FastifyInstance, { s }: Ctx) {
  const { totp } = directoryOf(s);

  app.post(
    '/me/second-factor/confirm',
    {
      config: { allow: 'user' },
      schema: {
        tags: ['second factor'],
        summary: 'Confirm enrolment with a code from the app; answers the recovery codes, once',
        body: CodeOnly,
        response: { 200: RecoveryCodes, ...errors },
      },
    },
    async (req, reply) => {
      const c = callerOf(req);
      if (await totp.enrolled(c.user.id)) return reply.status(409).send({ error: { code: 'conflict', message: 'already enrolled' } });
      const attempt = await s.limiter.reserve({ kind: 'code', user: c.user.username, addr: req.ip });
      if (!attempt.ok) return limited(s, req, reply, attempt, c.user.username, 'code');
      const codes = await totp.confirm(c.user, (req.body as { code: string }).code);
      if (codes) await attempt.succeeded();
      if (!codes)
        return reply
          .status(400)
          .send({ error: { code: 'invalid', message: 'wrong code: check the app and the clock, then try again', field: 'code' } });
      await s.audit({
        actor: c.user.username,
        actorId: c.user.id,
        channel: c.channel,
        action: 'totp.enrolled',
        targetType: 'user',
        targetId: c.user.id,
      });
      return { recoveryCodes: codes };
    },
  );

  app.delete(
    '/me/second-factor',
    {
      config: { allow: 'user' },
      schema: {
        tags: ['second factor'],
        summary: 'Turn my second factor off (needs a current code; not when a group requires it)',
        body: CodeOnly,
        response: { 200: Ok, ...errors },
      },
    },
    async (req, reply) => {
      const c = callerOf(req);
      if (await totp.requiredByGroup(c.user)) return deny(reply, 403, 'forbidden', 'one of your groups requires a second factor');
      const attempt = await s.limiter.reserve({ kind: 'code', user: c.user.username, addr: req.ip });
      if (!attempt.ok) return limited(s, req, reply, attempt, c.user.username, 'code');
      if (!(await s.auth.verifyTotp(c.user, (req.body as { code: string }).code)))
        return reply.status(400).send({ error: { code: 'invalid', message: 'wrong code', field: 'code' } });
      await attempt.succeeded();
      await totp.disable(c.user.id);
      await s.audit({
        actor: c.user.username,
        actorId: c.user.id,
        channel: c.channel,
        action: 'totp.disabled',
        targetType: 'user',
        targetId: c.user.id,
      });
      return { ok: true };
    },
  );
}

export async function mySecondFactorRoutes(app: FastifyInstance, ctx: Ctx) {
  mySecondFactorStartRoutes(app, ctx);
  mySecondFactorCodeRoutes(app, ctx);
}
