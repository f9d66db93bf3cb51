// System parameters: every dotted name with its meaning, default and validation. Anyone logged in may
// read them (no secrets); administrators change them.
import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import { paramDef } from '../../../core/params.js';
import { errors } from '../schema.js';
import { Param, ParamByName, ParamValue } from './schema.js';
import { actorOf, type Ctx } from '../context.js';

export async function paramRoutes(app: FastifyInstance, { s }: Ctx) {
  const all = async () => {
    const params = await s.admin.params();
    return s.admin.paramDefs().map((d) => ({
      name: d.name,
      value: params.raw(d.name),
      default: d.default,
      meaning: d.meaning,
      kind: d.kind,
      min: d.min,
      max: d.max,
      choices: d.choices,
    }));
  };

  app.get(
    '/params',
    {
      config: { allow: 'user' },
      schema: {
        tags: ['params'],
        summary: 'All system parameters',
        response: { 200: Type.Object({ items: Type.Array(Param) }), ...errors },
      },
    },
    async () => ({ items: await all() }),
  );

  app.put(
    '/params/:name',
    {
      schema: {
        tags: ['params'],
        summary: 'Set a system parameter (validated against its kind and range)',
        params: ParamByName,
        body: ParamValue,
        response: { 200: Param, ...errors },
      },
    },
    async (req) => {
      const { name } = req.params as { name: string };
      paramDef(name);
      await s.admin.setParam(actorOf(req), name, String((req.body as { value: unknown }).value));
      return (await all()).find((p) => p.name === name)!;
    },
  );
}
