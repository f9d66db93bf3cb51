// Approval workflows: user group x device group, ordered levels with authority, quorum and escalation.
import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import { presentWorkflow } from '../../../presenters/index.js';
import type { WorkflowLevel } from '../../../core/types.js';
import { Name, Nullable, Ok, Workflow, errors } from '../../schemas.js';
import { actorOf, type Ctx } from '../context.js';

/** A level as the console sends it; `authority` is written as in the CLI (group-manager, group-members:dba, users:a,b, line-manager). */
const LevelIn = Type.Object(
  {
    authority: Type.String({ minLength: 1, maxLength: 600 }),
    quorum: Type.Optional(Type.Integer({ minimum: 1, maximum: 20 })),
    escalateAfterMinutes: Type.Optional(Nullable(Type.Integer({ minimum: 1, maximum: 10080 }))),
  },
  { additionalProperties: false },
);
const NewWorkflow = Type.Object(
  { name: Name, userGroup: Type.String({ maxLength: 64 }), deviceGroup: Type.String({ maxLength: 64 }), levels: Type.Array(LevelIn, { minItems: 1, maxItems: 5 }) },
  { additionalProperties: false },
);

export function levelSpec(l: { authority: string; quorum?: number; escalateAfterMinutes?: number | null }): string {
  return [l.authority, ...(l.quorum ? [`quorum=${l.quorum}`] : []), ...(l.escalateAfterMinutes ? [`escalate=${l.escalateAfterMinutes}`] : [])].join(',');
}

export async function workflowRoutes(app: FastifyInstance, { s }: Ctx) {
  app.get('/workflows', { schema: { tags: ['workflows'], summary: 'All approval workflows', response: { 200: Type.Object({ items: Type.Array(Workflow) }), ...errors } } }, async () => {
    const p = await s.policy.current();
    return { items: p.data.workflows.map((w) => presentWorkflow(p, w)) };
  });

  app.post('/workflows', { schema: { tags: ['workflows'], summary: 'Add an approval workflow', body: NewWorkflow, response: { 201: Workflow, ...errors } } }, async (req, reply) => {
    const b = req.body as { name: string; userGroup: string; deviceGroup: string; levels: { authority: string; quorum?: number; escalateAfterMinutes?: number | null }[] };
    const id = await s.admin.addWorkflow(actorOf(req), b.name, b.userGroup, b.deviceGroup, b.levels.map(levelSpec) as (string | WorkflowLevel)[]);
    const p = await s.policy.current();
    return reply.status(201).send(presentWorkflow(p, p.data.workflows.find((w) => w.id === id)!));
  });

  app.delete('/workflows/:name', { schema: { tags: ['workflows'], summary: 'Remove an approval workflow', params: Type.Object({ name: Type.String({ maxLength: 64 }) }), response: { 200: Ok, ...errors } } }, async (req) => {
    await s.admin.removeWorkflow(actorOf(req), (req.params as { name: string }).name);
    return { ok: true };
  });
}
