// Approval workflows: user group x device group, ordered levels with authority, quorum and escalation.
// Every answer carries the workflow's dead ends (`warnings`); /workflows/check finds them before a save.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Type } from '@sinclair/typebox';
import { presentWorkflow } from '../../../presenters/index.js';
import { checkWorkflow, workflowWarnings } from '../../../core/admin/workflows.js';
import type { PolicySnapshot } from '../../../core/policy/snapshot.js';
import type { Workflow as WorkflowT, WorkflowLevel } from '../../../core/types.js';
import { GatehouseError } from '../../../core/errors.js';
import { Ok, errors } from '../schema.js';
import { NewWorkflow, Workflow, WorkflowByName, WorkflowPatch, WorkflowWarnings } from './schema.js';
import { actorOf, type Ctx } from '../context.js';

type LevelIn = { authority: string; quorum?: number; escalateAfterMinutes?: number | null };
type Body = { name: string; userGroup: string; deviceGroup: string; levels: LevelIn[] };

export function levelSpec(l: LevelIn): string {
  return [
    l.authority,
    ...(l.quorum ? [`quorum=${l.quorum}`] : []),
    ...(l.escalateAfterMinutes ? [`escalate=${l.escalateAfterMinutes}`] : []),
  ].join(',');
}

const present = (p: PolicySnapshot, w: WorkflowT) => ({ ...presentWorkflow(p, w), warnings: workflowWarnings(p, w) });

/** A level as stored, written back in the API's shape (so a PATCH without levels keeps them). */
const levelIn = (l: { authority: string; quorum: number; escalateAfterMinutes: number | null }): LevelIn => l;

export async function workflowRoutes(app: FastifyInstance, ctx: Ctx) {
  readRoutes(app, ctx);
  writeRoutes(app, ctx);
}

const specs = (b: Body) => b.levels.map(levelSpec) as (string | WorkflowLevel)[];

function readRoutes(app: FastifyInstance, { s }: Ctx) {
  app.get(
    '/workflows',
    {
      schema: {
        tags: ['workflows'],
        summary: 'All approval workflows, each with its dead ends (levels that name nobody)',
        response: { 200: Type.Object({ items: Type.Array(Workflow) }), ...errors },
      },
    },
    async () => {
      const p = await s.policy.current();
      return { items: p.data.workflows.map((w) => present(p, w)) };
    },
  );

  app.post(
    '/workflows/check',
    {
      schema: {
        tags: ['workflows'],
        summary: 'Validate a workflow without saving it: errors as on a save, else its dead ends',
        body: NewWorkflow,
        querystring: Type.Object({ editing: Type.Optional(Type.String({ maxLength: 64 })) }),
        response: { 200: WorkflowWarnings, ...errors },
      },
    },
    async (req) => {
      const p = await s.policy.current();
      const b = req.body as Body;
      const editing = (req.query as { editing?: string }).editing;
      const self = editing ? p.data.workflows.find((w) => w.name === editing) : undefined;
      const w = checkWorkflow(p, { ...b, levels: specs(b) }, self);
      return { warnings: workflowWarnings(p, w) };
    },
  );
}

function writeRoutes(app: FastifyInstance, { s }: Ctx) {
  const byName = async (name: string) => {
    const p = await s.policy.current();
    const w = p.data.workflows.find((x) => x.name === name);
    if (!w) throw new GatehouseError('not_found', `No workflow named '${name}'`);
    return { p, w };
  };
  const shown = async (id: number) => {
    const p = await s.policy.current();
    return present(
      p,
      p.data.workflows.find((w) => w.id === id)!,
    );
  };
  app.post(
    '/workflows',
    { schema: { tags: ['workflows'], summary: 'Add an approval workflow', body: NewWorkflow, response: { 201: Workflow, ...errors } } },
    async (req, reply) => {
      const b = req.body as Body;
      const id = await s.admin.addWorkflow(actorOf(req), b.name, b.userGroup, b.deviceGroup, specs(b));
      return reply.status(201).send(await shown(id));
    },
  );

  const update = async (req: FastifyRequest, partial: boolean) => {
    const { name } = req.params as { name: string };
    const { p, w } = await byName(name);
    const cur = presentWorkflow(p, w);
    const b = partial
      ? {
          name: cur.name,
          userGroup: cur.userGroup,
          deviceGroup: cur.deviceGroup,
          levels: cur.levels.map(levelIn),
          ...(req.body as Partial<Body>),
        }
      : (req.body as Body);
    const id = await s.admin.setWorkflow(actorOf(req), name, { ...b, levels: specs(b) });
    return shown(id);
  };
  app.put(
    '/workflows/:name',
    {
      schema: {
        tags: ['workflows'],
        summary: 'Replace an approval workflow (name, groups and levels; validated whole, one transaction)',
        params: WorkflowByName,
        body: NewWorkflow,
        response: { 200: Workflow, ...errors },
      },
    },
    (req) => update(req, false),
  );
  app.patch(
    '/workflows/:name',
    {
      schema: {
        tags: ['workflows'],
        summary: 'Change some of an approval workflow (what is left out stays)',
        params: WorkflowByName,
        body: WorkflowPatch,
        response: { 200: Workflow, ...errors },
      },
    },
    (req) => update(req, true),
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
