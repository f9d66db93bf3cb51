// Devices (Devices > Inventory) with their accounts' names and pinned SSH host key. Administrators see
// and change all; a user sees only the devices they may reach (the same 404 for the others).
import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import { notFound } from '../../../core/errors.js';
import type { Device as DeviceT, User as UserT } from '../../../core/types.js';
import { presentDevice } from '../../../presenters/index.js';
import { isAdmin } from '../../policy.js';
import { Account, Device, Name, Nullable, PortsIn, Protocols, errors } from '../../schemas.js';
import { actorOf, callerOf, type Ctx } from '../context.js';

const NewDevice = Type.Object(
  {
    name: Name,
    host: Type.String({ minLength: 1, maxLength: 255 }),
    protocols: Protocols,
    group: Type.Optional(Nullable(Type.String({ maxLength: 64 }))),
    ports: Type.Optional(PortsIn),
  },
  { additionalProperties: false },
);
const DevicePatch = Type.Object(
  {
    host: Type.Optional(Type.String({ minLength: 1, maxLength: 255 })),
    protocols: Type.Optional(Protocols),
    group: Type.Optional(Nullable(Type.String({ maxLength: 64 }))),
    ports: Type.Optional(PortsIn),
    enabled: Type.Optional(Type.Boolean()),
    /** Pin ("type base64") or clear (null) the device's SSH host key. */
    hostKey: Type.Optional(Nullable(Type.String({ maxLength: 16384 }))),
  },
  { additionalProperties: false },
);
const AccountIn = Type.Object(
  {
    /** Write-only: stored sealed in the vault, never shown again by any route. */
    password: Type.Optional(Type.String({ minLength: 1, maxLength: 4096 })),
    privateKey: Type.Optional(Type.String({ minLength: 1, maxLength: 32768 })),
    default: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
const ByName = Type.Object({ name: Type.String({ maxLength: 64 }) });

/** Whether `user` may reach `d` over any of its protocols (decide() per protocol). */
export async function reachable(ctx: Ctx, user: UserT, d: DeviceT): Promise<boolean> {
  for (const pr of d.protocols) if ((await ctx.s.approvals.decide(user.username, d.name, pr)).outcome !== 'denied') return true;
  return false;
}

export async function deviceRoutes(app: FastifyInstance, ctx: Ctx) {
  const { s } = ctx;
  const one = async (name: string) => {
    const p = await s.policy.current();
    const d = p.devicesByName.get(name);
    if (!d) throw notFound(`device '${name}'`);
    return presentDevice(p, d);
  };

  app.get(
    '/devices',
    { config: { allow: 'user' }, schema: { tags: ['devices'], summary: 'Devices (admins: all; others: those they may reach)', response: { 200: Type.Object({ items: Type.Array(Device) }), ...errors } } },
    async (req) => {
      const c = callerOf(req);
      const p = await s.policy.current();
      const all = [...p.devicesById.values()].sort((a, b) => a.name.localeCompare(b.name));
      const items = [];
      for (const d of all) if (isAdmin(c) || (await reachable(ctx, c.user, d))) items.push(presentDevice(p, d));
      return { items };
    },
  );

  app.get('/devices/:name', { config: { allow: 'user' }, schema: { tags: ['devices'], summary: 'One device, with its pinned SSH host key', params: ByName, response: { 200: Device, ...errors } } }, async (req) => {
    const c = callerOf(req);
    const { name } = req.params as { name: string };
    const p = await s.policy.current();
    const d = p.devicesByName.get(name);
    if (!d || (!isAdmin(c) && !(await reachable(ctx, c.user, d)))) throw notFound(`device '${name}'`);
    return presentDevice(p, d);
  });

  app.post('/devices', { schema: { tags: ['devices'], summary: 'Add a device', body: NewDevice, response: { 201: Device, ...errors } } }, async (req, reply) => {
    const b = req.body as { name: string; host: string; protocols: string[]; group?: string | null; ports?: Record<string, number> };
    await s.admin.addDevice(actorOf(req), b);
    return reply.status(201).send(await one(b.name));
  });

  app.patch('/devices/:name', { schema: { tags: ['devices'], summary: 'Change a device, or pin/clear its SSH host key', params: ByName, body: DevicePatch, response: { 200: Device, ...errors } } }, async (req) => {
    const { name } = req.params as { name: string };
    await s.admin.setDevice(actorOf(req), name, req.body as Parameters<typeof s.admin.setDevice>[2]);
    return one(name);
  });

  app.get('/devices/:name/accounts', { schema: { tags: ['accounts'], summary: "A device's accounts (names and kinds; secrets are write-only)", params: ByName, response: { 200: Type.Object({ items: Type.Array(Account) }), ...errors } } }, async (req) => ({
    items: (await one((req.params as { name: string }).name)).accounts,
  }));

  app.put(
    '/devices/:name/accounts/:account',
    {
      schema: {
        tags: ['accounts'],
        summary: 'Add or replace an account; its password or private key is sealed in the vault and never returned',
        params: Type.Object({ name: Type.String({ maxLength: 64 }), account: Type.String({ maxLength: 64 }) }),
        body: AccountIn,
        response: { 200: Account, ...errors },
      },
    },
    async (req) => {
      const { name, account } = req.params as { name: string; account: string };
      const b = req.body as { password?: string; privateKey?: string; default?: boolean };
      await s.admin.addAccount(actorOf(req), name, account, { password: b.password, privateKey: b.privateKey }, b.default);
      return (await one(name)).accounts.find((a) => a.name === account)!;
    },
  );
}
