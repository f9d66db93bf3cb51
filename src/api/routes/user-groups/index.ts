// User groups: members, managers, and the guide's "Require Connection Approval" settings.
import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import { notFound } from '../../../core/errors.js';
import { presentUserGroup } from '../../../presenters/index.js';
import { errors } from '../schema.js';
import { GroupMember, NewUserGroup, UserGroup, UserGroupByName, UserGroupPatch } from './schema.js';
import { actorOf, type Ctx } from '../context.js';

/** One user group as the API presents it, and the wizard's member sync. */
function userGroupHelpers(s: Ctx['s']) {
  const one = async (name: string) => {
    const p = await s.policy.current();
    const g = p.userGroupsByName.get(name);
    if (!g) throw notFound(`user group '${name}'`);
    return presentUserGroup(p, g);
  };
  /** Makes the member list exactly `want` (the wizard's Members step). */
  const syncMembers = async (req: Parameters<typeof actorOf>[0], group: string, want: string[]) => {
    const have = new Set((await one(group)).members);
    const target = new Set(want);
    for (const u of target) if (!have.has(u)) await s.admin.addMember(actorOf(req), group, u);
    for (const u of have) if (!target.has(u)) await s.admin.addMember(actorOf(req), group, u, true);
  };
  return { one, syncMembers };
}

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

function userGroupWriteRoutes(app: FastifyInstance, { s }: Ctx) {
  const { one, syncMembers } = userGroupHelpers(s);

  app.post(
    '/user-groups',
    { schema: { tags: ['user groups'], summary: 'Add a user group', body: NewUserGroup, response: { 201: UserGroup, ...errors } } },
    async (req, reply) => {
      const b = req.body as { name: string; managers?: string[]; members?: string[]; requireApproval?: boolean; requireReason?: boolean };
      await s.admin.addGroup(actorOf(req), 'user', b.name, b);
      if (b.members) await syncMembers(req, b.name, b.members);
      return reply.status(201).send(await one(b.name));
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
        response: { 200: UserGroup, ...errors },
      },
    },
    async (req) => {
      const { name } = req.params as { name: string };
      const b = req.body as {
        rename?: string;
        managers?: string[];
        members?: string[];
        requireApproval?: boolean;
        requireReason?: boolean;
      };
      await one(name);
      const { members, ...settings } = b;
      if (Object.keys(settings).length) await s.admin.setGroup(actorOf(req), 'user', name, settings);
      const now = b.rename ?? name;
      if (members) await syncMembers(req, now, members);
      return one(now);
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
