// Users: administrators manage them; everyone may read their own record.
import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import { notFound } from '../../../core/errors.js';
import { presentUser } from '../../../presenters/index.js';
import { isAdmin } from '../../policy.js';
import { Nullable, Ok, User, Username, errors } from '../../schemas.js';
import { actorOf, callerOf, type Ctx } from '../context.js';
import { limited } from '../../limited.js';

const NewUser = Type.Object(
  {
    username: Username,
    displayName: Type.Optional(Type.String({ maxLength: 200 })),
    email: Type.Optional(Nullable(Type.String({ maxLength: 320 }))),
    password: Type.Optional(Type.String({ minLength: 8, maxLength: 1024 })),
    sshKeys: Type.Optional(Type.Array(Type.String({ maxLength: 16384 }), { maxItems: 20 })),
    manager: Type.Optional(Nullable(Type.String({ maxLength: 64 }))),
    admin: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
const UserPatch = Type.Object(
  {
    displayName: Type.Optional(Type.String({ maxLength: 200 })),
    email: Type.Optional(Nullable(Type.String({ maxLength: 320 }))),
    password: Type.Optional(Type.String({ minLength: 8, maxLength: 1024 })),
    addSshKeys: Type.Optional(Type.Array(Type.String({ maxLength: 16384 }), { maxItems: 20 })),
    manager: Type.Optional(Nullable(Type.String({ maxLength: 64 }))),
    admin: Type.Optional(Type.Boolean()),
    disabled: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
const ByName = Type.Object({ username: Type.String({ maxLength: 64 }) });
const Keys = Type.Object({ items: Type.Array(Type.Object({ fingerprint: Type.String(), comment: Nullable(Type.String()) })) });

export async function userRoutes(app: FastifyInstance, { s }: Ctx) {
  app.get('/users', { config: { allow: 'admin' }, schema: { tags: ['users'], summary: 'All users', response: { 200: Type.Object({ items: Type.Array(User) }), ...errors } } }, async () => {
    const p = await s.policy.current();
    return { items: [...p.usersById.values()].sort((a, b) => a.username.localeCompare(b.username)).map((u) => presentUser(p, u)) };
  });

  app.get('/users/:username', { config: { allow: 'user' }, schema: { tags: ['users'], summary: 'One user (admins: anyone; others: themselves)', params: ByName, response: { 200: User, ...errors } } }, async (req) => {
    const c = callerOf(req);
    const { username } = req.params as { username: string };
    const p = await s.policy.current();
    const u = p.usersByName.get(username);
    // Another user's record looks like a missing one to a non-admin.
    if (!u || (!isAdmin(c) && u.id !== c.user.id)) throw notFound(`user '${username}'`);
    return presentUser(p, u);
  });

  app.get('/users/:username/keys', { config: { allow: 'user' }, schema: { tags: ['users'], summary: "A user's SSH public keys (fingerprints)", params: ByName, response: { 200: Keys, ...errors } } }, async (req) => {
    const c = callerOf(req);
    const { username } = req.params as { username: string };
    const p = await s.policy.current();
    const u = p.usersByName.get(username);
    if (!u || (!isAdmin(c) && u.id !== c.user.id)) throw notFound(`user '${username}'`);
    return { items: (await s.adminStore.userKeys(u.id)).map((k) => ({ fingerprint: k.fingerprint, comment: k.comment })) };
  });

  app.post('/users', { config: { allow: 'admin' }, schema: { tags: ['users'], summary: 'Add a user', body: NewUser, response: { 201: User, ...errors } } }, async (req, reply) => {
    const b = req.body as Parameters<typeof s.admin.addUser>[1];
    await s.admin.addUser(actorOf(req), b);
    const p = await s.policy.current();
    return reply.status(201).send(presentUser(p, p.usersByName.get(b.username)!));
  });

  app.patch('/users/:username', { config: { allow: 'admin' }, schema: { tags: ['users'], summary: 'Change a user', params: ByName, body: UserPatch, response: { 200: User, ...errors } } }, async (req) => {
    const { username } = req.params as { username: string };
    await s.admin.setUser(actorOf(req), username, req.body as Parameters<typeof s.admin.setUser>[2]);
    const p = await s.policy.current();
    return presentUser(p, p.usersByName.get(username)!);
  });

  app.patch(
    '/me/password',
    {
      config: { allow: 'user' },
      schema: {
        tags: ['users'],
        summary: 'Change my own password',
        body: Type.Object({ current: Type.String({ maxLength: 1024 }), password: Type.String({ minLength: 8, maxLength: 1024 }) }, { additionalProperties: false }),
        response: { 200: Ok, ...errors },
      },
    },
    async (req, reply) => {
      const c = callerOf(req);
      const b = req.body as { current: string; password: string };
      const attempt = await s.limiter.reserve({ kind: 'password', user: c.user.username, addr: req.ip });
      if (!attempt.ok) return limited(s, req, reply, attempt, c.user.username, 'login');
      if (!(await s.auth.verifyPassword(c.user.username, b.current))) return reply.status(400).send({ error: { code: 'invalid', message: 'the current password is wrong', field: 'current' } });
      await attempt.succeeded();
      await s.admin.setUser(actorOf(req), c.user.username, { password: b.password });
      return { ok: true };
    },
  );
}
