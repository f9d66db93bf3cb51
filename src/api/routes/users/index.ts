// Users: administrators manage them; everyone may read their own record.
import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import { notFound } from '../../../core/errors.js';
import { presentUser } from '../../../presenters/index.js';
import { canSeeUser } from '../../policy.js';
import { Ok, errors } from '../schema.js';
import { ByUsername, NewUser, PasswordChange, User, UserKeys, UserPatch } from './schema.js';
import { actorOf, callerOf, type Ctx } from '../context.js';
import { limited } from '../../limited.js';

function userReadRoutes(app: FastifyInstance, { s }: Ctx) {
  app.get(
    '/users',
    {
      config: { allow: 'admin' },
      schema: { tags: ['users'], summary: 'All users', response: { 200: Type.Object({ items: Type.Array(User) }), ...errors } },
    },
    async () => {
      const p = await s.policy.current();
      return { items: [...p.usersById.values()].sort((a, b) => a.username.localeCompare(b.username)).map((u) => presentUser(p, u)) };
    },
  );

  app.get(
    '/users/:username',
    {
      config: { allow: 'user' },
      schema: {
        tags: ['users'],
        summary: 'One user (admins: anyone; others: themselves)',
        params: ByUsername,
        response: { 200: User, ...errors },
      },
    },
    async (req) => {
      const c = callerOf(req);
      const { username } = req.params as { username: string };
      const p = await s.policy.current();
      const u = p.usersByName.get(username);
      if (!u || !canSeeUser(c, u)) throw notFound(`user '${username}'`);
      return presentUser(p, u);
    },
  );

  app.get(
    '/users/:username/keys',
    {
      config: { allow: 'user' },
      schema: {
        tags: ['users'],
        summary: "A user's SSH public keys (fingerprints)",
        params: ByUsername,
        response: { 200: UserKeys, ...errors },
      },
    },
    async (req) => {
      const c = callerOf(req);
      const { username } = req.params as { username: string };
      const p = await s.policy.current();
      const u = p.usersByName.get(username);
      if (!u || !canSeeUser(c, u)) throw notFound(`user '${username}'`);
      return { items: (await s.adminStore.userKeys(u.id)).map((k) => ({ fingerprint: k.fingerprint, comment: k.comment })) };
    },
  );
}

function userWriteRoutes(app: FastifyInstance, { s }: Ctx) {
  app.post(
    '/users',
    { config: { allow: 'admin' }, schema: { tags: ['users'], summary: 'Add a user', body: NewUser, response: { 201: User, ...errors } } },
    async (req, reply) => {
      const b = req.body as Parameters<typeof s.admin.addUser>[1];
      await s.admin.addUser(actorOf(req), b);
      const p = await s.policy.current();
      return reply.status(201).send(presentUser(p, p.usersByName.get(b.username)!));
    },
  );

  app.patch(
    '/users/:username',
    {
      config: { allow: 'admin' },
      schema: { tags: ['users'], summary: 'Change a user', params: ByUsername, body: UserPatch, response: { 200: User, ...errors } },
    },
    async (req) => {
      const { username } = req.params as { username: string };
      await s.admin.setUser(actorOf(req), username, req.body as Parameters<typeof s.admin.setUser>[2]);
      const p = await s.policy.current();
      return presentUser(p, p.usersByName.get(username)!);
    },
  );
}

function myPasswordRoute(app: FastifyInstance, { s }: Ctx) {
  app.patch(
    '/me/password',
    {
      config: { allow: 'user' },
      schema: {
        tags: ['users'],
        summary: 'Change my own password',
        body: PasswordChange,
        response: { 200: Ok, ...errors },
      },
    },
    async (req, reply) => {
      const c = callerOf(req);
      const b = req.body as { current: string; password: string };
      const attempt = await s.limiter.reserve({ kind: 'password', user: c.user.username, addr: req.ip });
      if (!attempt.ok) return limited(s, req, reply, attempt, c.user.username, 'login');
      if (!(await s.auth.verifyPassword(c.user.username, b.current)))
        return reply.status(400).send({ error: { code: 'invalid', message: 'the current password is wrong', field: 'current' } });
      await attempt.succeeded();
      await s.admin.setUser(actorOf(req), c.user.username, { password: b.password });
      return { ok: true };
    },
  );
}

export async function userRoutes(app: FastifyInstance, ctx: Ctx) {
  userReadRoutes(app, ctx);
  userWriteRoutes(app, ctx);
  myPasswordRoute(app, ctx);
}
