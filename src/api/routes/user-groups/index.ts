// User groups: members, managers, and the guide's "Require Connection Approval" settings.
import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import { notFound } from '../../../core/errors.js';
import { presentUserGroup } from '../../../presenters/index.js';
import { errors } from '../schema.js';
import { GroupMember, NewUserGroup, SavedUserGroup, UserGroup, UserGroupByName, UserGroupPatch } from './schema.js';
import { actorOf, type Ctx } from '../context.js';

/** One user group as the API presents it. */
function userGroupHelpers(s: Ctx['s']) {
  const one = async (name: string) => {
    const p = await s.policy.current();
    const g = p.userGroupsByName.get(name);
    if (!g) throw notFound(`user group '${name}'`);
    return presentUserGroup(p, g);
  };
  return { one };
}

type GroupBody = { managers?: string[]; members?: string[]; requireApproval?: boolean; requireReason?: boolean };

function userGroupReadRoutes(app: FastifyInstance, { s }: Ctx) {
  const { one } = userGroupHelpers(s);

  app.get(
    '/user-groups',
    {
      schema: {
        tags: ['user groups'],
        summary: 'All user groups',
        response: { 200: Type.Object({ items: Type.Array(UserGroup) }), ...errors },
      },
    },
    async () => {
      const p = await s.policy.current();
      return { items: [...p.userGroupsById.values()].sort((a, b) => a.name.localeCompare(b.name)).map((g) => presentUserGroup(p, g)) };
    },
  );

  app.get(
    '/user-groups/:name',
    { schema: { tags: ['user groups'], summary: 'One user group', params: UserGroupByName, response: { 200: UserGroup, ...errors } } },
    async (req) => one((req.params as { name: string }).name),
  );
}

// The wizard saves all or nothing: core checks name, members and managers first, then writes once.
// A group that would refuse everyone is saved with a warning, not refused (see docs/console.md).
function userGroupWriteRoutes(app: FastifyInstance, { s }: Ctx) {
  const { one } = userGroupHelpers(s);

  app.post(
    '/user-groups',
    {
      schema: { tags: ['user groups'], summary: 'Add a user group', body: NewUserGroup, response: { 201: SavedUserGroup, ...errors } },
    },
    async (req, reply) => {
      const b = req.body as GroupBody & { name: string };
      const { warnings } = await s.admin.saveUserGroup(actorOf(req), null, b);
      return reply.status(201).send({ ...(await one(b.name)), warnings });
    },
  );

  app.patch(
    '/user-groups/:name',
    {
      schema: {
        tags: ['user groups'],
        summary: 'Edit a user group (the wizard: members, managers, Require Connection Approval)',
        params: UserGroupByName,
        body: UserGroupPatch,
        response: { 200: SavedUserGroup, ...errors },
      },
    },
    async (req) => {
      const { name } = req.params as { name: string };
      const { rename, ...b } = req.body as GroupBody & { rename?: string };
      const { warnings } = await s.admin.saveUserGroup(actorOf(req), name, { ...b, name: rename ?? name });
      return { ...(await one(rename ?? name)), warnings };
    },
  );
}

function userGroupMemberRoutes(app: FastifyInstance, { s }: Ctx) {
  const { one } = userGroupHelpers(s);

  app.put(
    '/user-groups/:name/members/:username',
    { schema: { tags: ['user groups'], summary: 'Add a member', params: GroupMember, response: { 200: UserGroup, ...errors } } },
    async (req) => {
      const { name, username } = req.params as { name: string; username: string };
      await s.admin.addMember(actorOf(req), name, username);
      return one(name);
    },
  );

  app.delete(
    '/user-groups/:name/members/:username',
    { schema: { tags: ['user groups'], summary: 'Remove a member', params: GroupMember, response: { 200: UserGroup, ...errors } } },
    async (req) => {
      const { name, username } = req.params as { name: string; username: string };
      await s.admin.addMember(actorOf(req), name, username, true);
      return one(name);
    },
  );
}

export async function userGroupRoutes(app: FastifyInstance, ctx: Ctx) {
  userGroupReadRoutes(app, ctx);
  userGroupWriteRoutes(app, ctx);
  userGroupMemberRoutes(app, ctx);
}
