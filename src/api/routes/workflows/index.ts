// Approval workflows: user group x device group, ordered levels with authority, quorum and escalation.
import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import { presentWorkflow } from '../../../presenters/index.js';
import type { WorkflowLevel } from '../../../core/types.js';
import { Ok, errors } from '../schema.js';
import { NewWorkflow, Workflow, WorkflowByName } from './schema.js';
import { actorOf, type Ctx } from '../context.js';

export function levelSpec(l: { authority: string; quorum?: number; escalateAfterMinutes?: number | null }): string {
  return [
    l.authority,
    ...(l.quorum ? [`quorum=${l.quorum}`] : []),
    ...(l.escalateAfterMinutes ? [`escalate=${l.escalateAfterMinutes}`] : []),
  ].join(',');
}

export async function workflowRoutes(app: FastifyInstance, { s }: Ctx) {
  app.get(
    '/workflows',
    {
      schema: {
        tags: ['workflows'],
        summary: 'All approval workflows',
        response: { 200: Type.Object({ items: Type.Array(Workflow) }), ...errors },
      },
    },
    async () => {
      const p = await s.policy.current();
      return { items: p.data.workflows.map((w) => presentWorkflow(p, w)) };
    },
  );

  app.post(
    '/workflows',
    { schema: { tags: ['workflows'], summary: 'Add an approval workflow', body: NewWorkflow, response: { 201: Workflow, ...errors } } },
    async (req, reply) => {
      const b = req.body as {
        name: string;
        userGroup: string;
        deviceGroup: string;
        levels: { authority: string; quorum?: number; escalateAfterMinutes?: number | null }[];
      };
      const id = await s.admin.addWorkflow(
        actorOf(req),
        b.name,
        b.userGroup,
        b.deviceGroup,
        b.levels.map(levelSpec) as (string | WorkflowLevel)[],
      );
      const p = await s.policy.current();
      return reply.status(201).send(
        presentWorkflow(
          p,
          p.data.workflows.find((w) => w.id === id)!,
        ),
      );
    },
  );

  app.delete(
    '/workflows/:name',
    { schema: { tags: ['workflows'], summary: 'Remove an approval workflow', params: WorkflowByName, response: { 200: Ok, ...errors } } },
    async (req) => {
      await s.admin.removeWorkflow(actorOf(req), (req.params as { name: string }).name);
      return { ok: true };
    },
  );
}
