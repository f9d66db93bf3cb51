// My passkeys: list, enrol (from the console only, like the TOTP), remove; and the administrator's view
// of who has one, with a reset for a lost device.
import type { FastifyInstance } from 'fastify';
import { GatehouseError } from '../../../core/errors.js';
import { PASSKEY_PARAM, type Passkey } from '../../../core/passkeys.js';
import type { RegistrationResponseJSON } from '@simplewebauthn/server';
import { directoryOf } from '../../../directory/index.js';
import { deny } from '../../auth.js';
import { mayEnrolSecondFactor } from '../../policy.js';
import { callerOf, type Ctx } from '../context.js';
import { Ok, errors } from '../schema.js';
import { MyPasskeys, NewPasskey, WebAuthnOptions, PasskeyHolders, PasskeyId, PasskeyUser, PasskeyView } from './schema.js';

const iso = (t: number | null) => (t === null ? null : new Date(t).toISOString());
export const presentPasskey = (p: Passkey) => ({ id: p.id, name: p.name, createdAt: iso(p.createdAt), lastUsedAt: iso(p.lastUsedAt) });

export function myPasskeyRoutes(app: FastifyInstance, ctx: Ctx) {
  const { s } = ctx;
  app.get(
    '/me/passkeys',
    { config: { allow: 'user' }, schema: { tags: ['passkeys'], summary: 'My passkeys', response: { 200: MyPasskeys, ...errors } } },
    async (req) => ({
      items: (await s.passkeys.list(callerOf(req).user.id)).map(presentPasskey),
      decisionsNeedPasskey: (await s.params.params()).bool(PASSKEY_PARAM),
    }),
  );

  app.post(
    '/me/passkeys/options',
    {
      config: { allow: 'user' },
      schema: {
        tags: ['passkeys'],
        summary: 'Start enrolling a passkey: options for navigator.credentials.create()',
        response: { 200: WebAuthnOptions, ...errors },
      },
    },
    async (req, reply) => {
      const c = callerOf(req);
      if (!mayEnrolSecondFactor(c)) return deny(reply, 403, 'forbidden', 'enrol a passkey from the console, not with an API token');
      return s.passkeys.registrationOptions(c.user);
    },
  );

  app.post(
    '/me/passkeys',
    {
      config: { allow: 'user' },
      schema: {
        tags: ['passkeys'],
        summary: "Finish enrolling: the authenticator's answer to the options, and a name for the passkey",
        body: NewPasskey,
        response: { 201: PasskeyView, ...errors },
      },
    },
    async (req, reply) => {
      const c = callerOf(req);
      if (!mayEnrolSecondFactor(c)) return deny(reply, 403, 'forbidden', 'enrol a passkey from the console, not with an API token');
      const b = req.body as { name: string; response: RegistrationResponseJSON };
      const p = await s.passkeys.register(c.user, b.name.trim(), b.response);
      await s.audit({
        actor: c.user.username,
        actorId: c.user.id,
        channel: c.channel,
        action: 'passkey.enrolled',
        targetType: 'user',
        targetId: c.user.id,
        details: { name: p.name, credentialId: p.credentialId },
      });
      return reply.status(201).send(presentPasskey(p));
    },
  );

  myPasskeyRemoveRoute(app, ctx);
}

function myPasskeyRemoveRoute(app: FastifyInstance, { s }: Ctx) {
  app.delete(
    '/me/passkeys/:id',
    {
      config: { allow: 'user' },
      schema: { tags: ['passkeys'], summary: 'Remove one of my passkeys', params: PasskeyId, response: { 200: Ok, ...errors } },
    },
    async (req, reply) => {
      const c = callerOf(req);
      if (!mayEnrolSecondFactor(c)) return deny(reply, 403, 'forbidden', 'remove a passkey from the console, not with an API token');
      const id = (req.params as { id: number }).id;
      const mine = await s.passkeys.list(c.user.id);
      // The last second factor a group requires cannot be removed by its owner (an admin can reset it).
      if (mine.length === 1 && mine[0].id === id && !(await directoryOf(s).totp.enrolled(c.user.id)))
        if (await directoryOf(s).totp.requiredByGroup(c.user))
          return deny(reply, 403, 'forbidden', 'one of your groups requires a second factor: set up another one first');
      const gone = await s.passkeys.remove(c.user.id, id);
      if (!gone) throw new GatehouseError('not_found', 'passkey not found');
      await s.audit({
        actor: c.user.username,
        actorId: c.user.id,
        channel: c.channel,
        action: 'passkey.removed',
        targetType: 'user',
        targetId: c.user.id,
        details: { name: gone.name, credentialId: gone.credentialId },
      });
      return { ok: true };
    },
  );
}

export function adminPasskeyRoutes(app: FastifyInstance, { s }: Ctx) {
  app.get(
    '/passkeys/holders',
    {
      config: { allow: 'admin' },
      schema: { tags: ['passkeys'], summary: 'Admin: who has a passkey, and how many', response: { 200: PasskeyHolders, ...errors } },
    },
    async () => {
      const p = await s.policy.current();
      const items = [...(await s.passkeys.counts())]
        .map(([id, n]) => ({ username: p.userName(id), passkeys: n }))
        .sort((a, b) => a.username.localeCompare(b.username));
      return { items };
    },
  );

  app.delete(
    '/users/:username/passkeys',
    {
      config: { allow: 'admin' },
      schema: {
        tags: ['passkeys'],
        summary: "Admin: remove all of a user's passkeys (a lost device)",
        params: PasskeyUser,
        response: { 200: Ok, ...errors },
      },
    },
    async (req) => {
      const c = callerOf(req);
      const u = (await s.policy.current()).usersByName.get((req.params as { username: string }).username);
      if (!u) throw new GatehouseError('not_found', 'user not found');
      const gone = [];
      for (const p of await s.passkeys.list(u.id))
        if (await s.passkeys.remove(u.id, p.id)) gone.push({ name: p.name, credentialId: p.credentialId });
      await s.audit({
        actor: c.user.username,
        actorId: c.user.id,
        channel: c.channel,
        action: 'passkey.reset',
        targetType: 'user',
        targetId: u.id,
        details: { username: u.username, removed: gone },
      });
      return { ok: true };
    },
  );
}
