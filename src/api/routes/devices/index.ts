// Devices (Devices > Inventory) with their accounts' names and pinned SSH host key. Administrators see
// and change all; a user sees only the devices they may reach (the same 404 for the others).
import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import { notFound } from '../../../core/errors.js';
import { presentDevice } from '../../../presenters/index.js';
import { canSeeDevice } from '../../policy.js';
import { errors } from '../schema.js';
import { Account, AccountIn, Device, DeviceAccount, DeviceByName, DevicePatch, NewDevice } from './schema.js';
import { actorOf, callerOf, type Ctx } from '../context.js';

/** One device as the API presents it (404 when there is none by that name). */
function deviceByName(s: Ctx['s']) {
  return async (name: string) => {
    const p = await s.policy.current();
    const d = p.devicesByName.get(name);
    if (!d) throw notFound(`device '${name}'`);
    return presentDevice(p, d);
  };
}

function deviceReadRoutes(app: FastifyInstance, { s }: Ctx) {
  app.get(
    '/devices',
    {
      config: { allow: 'user' },
      schema: {
        tags: ['devices'],
        summary: 'Devices (admins: all; others: those they may reach)',
        response: { 200: Type.Object({ items: Type.Array(Device) }), ...errors },
      },
    },
    async (req) => {
      const c = callerOf(req);
      const p = await s.policy.current();
      const all = [...p.devicesById.values()].sort((a, b) => a.name.localeCompare(b.name));
      const items = [];
      for (const d of all) if (await canSeeDevice(s, c, d)) items.push(presentDevice(p, d));
      return { items };
    },
  );

  app.get(
    '/devices/:name',
    {
      config: { allow: 'user' },
      schema: {
        tags: ['devices'],
        summary: 'One device, with its pinned SSH host key',
        params: DeviceByName,
        response: { 200: Device, ...errors },
      },
    },
    async (req) => {
      const c = callerOf(req);
      const { name } = req.params as { name: string };
      const p = await s.policy.current();
      const d = p.devicesByName.get(name);
      if (!d || !(await canSeeDevice(s, c, d))) throw notFound(`device '${name}'`);
      return presentDevice(p, d);
    },
  );
}

function deviceWriteRoutes(app: FastifyInstance, { s }: Ctx) {
  const one = deviceByName(s);

  app.post(
    '/devices',
    { schema: { tags: ['devices'], summary: 'Add a device', body: NewDevice, response: { 201: Device, ...errors } } },
    async (req, reply) => {
      const b = req.body as { name: string; host: string; protocols: string[]; group?: string | null; ports?: Record<string, number> };
      await s.admin.addDevice(actorOf(req), b);
      return reply.status(201).send(await one(b.name));
    },
  );

  app.patch(
    '/devices/:name',
    {
      schema: {
        tags: ['devices'],
        summary: 'Change a device, or pin/clear its SSH host key',
        params: DeviceByName,
        body: DevicePatch,
        response: { 200: Device, ...errors },
      },
    },
    async (req) => {
      const { name } = req.params as { name: string };
      await s.admin.setDevice(actorOf(req), name, req.body as Parameters<typeof s.admin.setDevice>[2]);
      return one(name);
    },
  );
}

function deviceAccountRoutes(app: FastifyInstance, { s }: Ctx) {
  const one = deviceByName(s);

  app.get(
    '/devices/:name/accounts',
    {
      schema: {
        tags: ['accounts'],
        summary: "A device's accounts (names and kinds; secrets are write-only)",
        params: DeviceByName,
        response: { 200: Type.Object({ items: Type.Array(Account) }), ...errors },
      },
    },
    async (req) => ({
      items: (await one((req.params as { name: string }).name)).accounts,
    }),
  );

  app.put(
    '/devices/:name/accounts/:account',
    {
      schema: {
        tags: ['accounts'],
        summary: 'Add or replace an account; its password or private key is sealed in the vault and never returned',
        params: DeviceAccount,
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

export async function deviceRoutes(app: FastifyInstance, ctx: Ctx) {
  deviceReadRoutes(app, ctx);
  deviceWriteRoutes(app, ctx);
  deviceAccountRoutes(app, ctx);
}
