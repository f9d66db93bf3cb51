// Device groups (Devices > Inventory): managers and the "Connection Approval Methods" settings.
import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import { notFound } from '../../../core/errors.js';
import { presentDeviceGroup } from '../../../presenters/index.js';
import { errors } from '../schema.js';
import { DeviceGroup, DeviceGroupByName, DeviceGroupPatch, NewDeviceGroup } from './schema.js';
import { actorOf, type Ctx } from '../context.js';

export async function deviceGroupRoutes(app: FastifyInstance, { s }: Ctx) {
  const one = async (name: string) => {
    const p = await s.policy.current();
    const g = [...p.deviceGroupsById.values()].find((x) => x.name === name);
    if (!g) throw notFound(`device group '${name}'`);
    return presentDeviceGroup(p, g);
  };

  app.get(
    '/device-groups',
    {
      schema: {
        tags: ['device groups'],
        summary: 'All device groups',
        response: { 200: Type.Object({ items: Type.Array(DeviceGroup) }), ...errors },
      },
    },
    async () => {
      const p = await s.policy.current();
      return { items: [...p.deviceGroupsById.values()].sort((a, b) => a.name.localeCompare(b.name)).map((g) => presentDeviceGroup(p, g)) };
    },
  );

  app.get(
    '/device-groups/:name',
    {
      schema: {
        tags: ['device groups'],
        summary: 'One device group',
        params: DeviceGroupByName,
        response: { 200: DeviceGroup, ...errors },
      },
    },
    async (req) => one((req.params as { name: string }).name),
  );

  app.post(
    '/device-groups',
    { schema: { tags: ['device groups'], summary: 'Add a device group', body: NewDeviceGroup, response: { 201: DeviceGroup, ...errors } } },
    async (req, reply) => {
      const b = req.body as { name: string; managers?: string[]; requireApproval?: boolean; requireReason?: boolean };
      await s.admin.addGroup(actorOf(req), 'device', b.name, b);
      return reply.status(201).send(await one(b.name));
    },
  );

  app.patch(
    '/device-groups/:name',
    {
      schema: {
        tags: ['device groups'],
        summary: 'Edit a device group (Connection Approval Methods: Required Managerial Approval)',
        params: DeviceGroupByName,
        body: DeviceGroupPatch,
        response: { 200: DeviceGroup, ...errors },
      },
    },
    async (req) => {
      const { name } = req.params as { name: string };
      const b = req.body as { rename?: string; managers?: string[]; requireApproval?: boolean; requireReason?: boolean };
      await s.admin.setGroup(actorOf(req), 'device', name, b);
      return one(b.rename ?? name);
    },
  );
}
