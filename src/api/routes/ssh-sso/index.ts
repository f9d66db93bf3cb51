// The console side of SSH login through a link (/sso/ssh/<code> in the console): the signed-in user sees
// which SSH login the code belongs to and confirms it. Only a console session counts (a script's API
// token cannot finish someone's SSH login), and only the user the code was issued for may confirm it.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { SshLoginMethod } from '../../../core/ssh-sso.js';
import { callerOf, type Ctx } from '../context.js';
import { errors } from '../schema.js';
import { SshSsoCodeParam, SshSsoGroupIn, SshSsoGroupMethod, SshSsoGroupMethods, SshSsoGroupParam, SshSsoView } from './schema.js';

/** The console session's caller, or a 403 for API tokens. */
function webCaller(req: FastifyRequest, reply: FastifyReply) {
  const c = callerOf(req);
  if (c.channel === 'web') return c;
  void reply
    .status(403)
    .send({ error: { code: 'forbidden', message: 'an SSH sign-in link is confirmed in the console, not with an API token' } });
  return null;
}

function codeRoutes(app: FastifyInstance, { s }: Ctx) {
  app.get(
    '/ssh-sso/:code',
    {
      config: { allow: 'user' },
      schema: {
        tags: ['ssh sign-in'],
        summary: 'The SSH login a sign-in link belongs to (only for the user it was issued for)',
        params: SshSsoCodeParam,
        response: { 200: SshSsoView, ...errors },
      },
    },
    async (req, reply) => {
      const c = webCaller(req, reply);
      if (!c) return reply;
      reply.header('cache-control', 'no-store');
      const v = await s.sshSso.view((req.params as { code: string }).code, c.user, req.ip);
      const now = s.clock.now();
      return {
        username: v.username,
        clientAddr: v.clientAddr,
        expiresAt: new Date(v.expiresAt).toISOString(),
        secondsLeft: Math.max(0, Math.floor((v.expiresAt - now) / 1000)),
        state: v.state,
      };
    },
  );

  app.post(
    '/ssh-sso/:code/confirm',
    {
      config: { allow: 'user' },
      schema: {
        tags: ['ssh sign-in'],
        summary: 'Sign in to SSH: confirms the link, once; the waiting ssh finishes its login when the user presses Enter',
        params: SshSsoCodeParam,
        response: { 200: SshSsoView, ...errors },
      },
    },
    async (req, reply) => {
      const c = webCaller(req, reply);
      if (!c) return reply;
      const code = (req.params as { code: string }).code;
      await s.sshSso.confirm(code, c.user, req.ip);
      const v = await s.sshSso.view(code, c.user, req.ip);
      return {
        username: v.username,
        clientAddr: v.clientAddr,
        expiresAt: new Date(v.expiresAt).toISOString(),
        secondsLeft: Math.max(0, Math.floor((v.expiresAt - s.clock.now()) / 1000)),
        state: v.state,
      };
    },
  );
}

function groupRoutes(app: FastifyInstance, { s }: Ctx) {
  app.get(
    '/ssh-sso/groups',
    {
      config: { allow: 'admin' },
      schema: {
        tags: ['ssh sign-in'],
        summary: 'Admin: user groups with their own SSH login method (others follow ssh.login.method)',
        response: { 200: SshSsoGroupMethods, ...errors },
      },
    },
    async () => {
      const p = await s.policy.current();
      const methods = await s.sshSso.groupMethods();
      return { items: [...methods].map(([id, method]) => ({ group: p.userGroupsById.get(id)?.name ?? String(id), method })) };
    },
  );

  app.put(
    '/ssh-sso/groups/:name',
    {
      config: { allow: 'admin' },
      schema: {
        tags: ['ssh sign-in'],
        summary: "Admin: a user group's SSH login method (key-or-password or sso; null: the parameter applies)",
        params: SshSsoGroupParam,
        body: SshSsoGroupIn,
        response: { 200: SshSsoGroupMethod, ...errors },
      },
    },
    async (req, reply) => {
      const c = callerOf(req);
      const name = (req.params as { name: string }).name;
      const g = (await s.policy.current()).userGroupsByName.get(name);
      if (!g) return reply.status(404).send({ error: { code: 'not_found', message: `user group '${name}' not found` } });
      const method = (req.body as { method: SshLoginMethod | null }).method;
      await s.sshSso.setGroupMethod(g.id, method);
      await s.audit({
        actor: c.user.username,
        actorId: c.user.id,
        channel: c.channel,
        action: 'user-group.ssh-login-method',
        targetType: 'user-group',
        targetId: g.id,
        details: { group: name, method },
      });
      return { group: name, method };
    },
  );
}

export async function sshSsoRoutes(app: FastifyInstance, ctx: Ctx): Promise<void> {
  groupRoutes(app, ctx);
  codeRoutes(app, ctx);
}
