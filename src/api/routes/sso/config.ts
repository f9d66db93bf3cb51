// Admin: the OpenID Connect settings (never the client secret), a dry run, off; and the leaver, which
// ends every console session and API token of one user at once.
import type { FastifyInstance } from 'fastify';
import { ssoOf } from '../../../sso/index.js';
import type { SsoPatch } from '../../../sso/service.js';
import { callerOf, type Ctx } from '../context.js';
import { Ok, Username, errors } from '../schema.js';
import { Type } from '@sinclair/typebox';
import { SignOutResult, SsoConfigView, SsoSettingsBody, SsoTestResult } from './schema.js';

export async function ssoConfigRoutes(app: FastifyInstance, { s }: Ctx) {
  const sso = ssoOf(s);
  const actorOf = (req: Parameters<typeof callerOf>[0]) => {
    const c = callerOf(req);
    return { username: c.user.username, id: c.user.id, channel: c.channel };
  };

  app.get(
    '/sso/config',
    {
      schema: {
        tags: ['sso'],
        summary: 'Admin: the single sign-on settings (never the client secret)',
        response: { 200: SsoConfigView, ...errors },
      },
    },
    async (_req, reply) => {
      const v = await sso.view();
      if (!v)
        return reply.status(404).send({ error: { code: 'not_found', message: 'single sign-on is not configured (gatehouse sso set)' } });
      return v;
    },
  );

  app.put(
    '/sso/config',
    {
      schema: {
        tags: ['sso'],
        summary: 'Admin: set or change the single sign-on settings (turns it on)',
        body: SsoSettingsBody,
        response: { 200: SsoConfigView, ...errors },
      },
    },
    async (req) => {
      const { clientSecret, ...patch } = req.body as SsoPatch & { clientSecret?: string };
      return sso.configure(actorOf(req), patch, clientSecret);
    },
  );

  app.post(
    '/sso/config/test',
    {
      schema: {
        tags: ['sso'],
        summary: 'Admin: discover the provider and build a login URL, without signing anyone in',
        response: { 200: SsoTestResult, ...errors },
      },
    },
    async () => sso.test(),
  );

  app.delete(
    '/sso/config',
    { schema: { tags: ['sso'], summary: 'Admin: turn single sign-on off (the settings are kept)', response: { 200: Ok, ...errors } } },
    async (req) => ({ ok: await sso.off(actorOf(req)) }),
  );

  app.post(
    '/users/:username/sign-out',
    {
      schema: {
        tags: ['users'],
        summary: 'Admin: the leaver. Ends every console session and revokes every API token of the user',
        params: Type.Object({ username: Username }),
        response: { 200: SignOutResult, ...errors },
      },
    },
    async (req) => sso.signOut(actorOf(req), (req.params as { username: string }).username),
  );
}
