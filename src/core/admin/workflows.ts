// Workflow administration read from the snapshot: validating a workflow as a whole (every error at
// once, each at its field) and the dead ends an administrator is warned about before saving.
import { GatehouseError } from '../errors.js';
import type { PolicySnapshot } from '../policy/snapshot.js';
import type { User, Workflow, WorkflowLevel } from '../types.js';
import { parseLevel } from './levels.js';
import { checkName } from './validate.js';

export interface WorkflowInput {
  name: string;
  userGroup: string;
  deviceGroup: string;
  levels: (string | WorkflowLevel)[];
}

export interface CheckedWorkflow {
  name: string;
  userGroupId: number;
  deviceGroupId: number;
  levels: WorkflowLevel[];
}

/** One warning: where (a form field, e.g. `levels.1`) and why, in words. */
export interface FieldWarning {
  field: string;
  message: string;
}

/** Errors keyed by field; thrown as one 'invalid' error (the first field names it) carrying them all. */
export class FieldErrors extends GatehouseError {
  constructor(readonly fields: Record<string, string>) {
    const [first] = Object.keys(fields);
    super('invalid', Object.values(fields).join('; '), first);
  }
}

function tryField(errs: Record<string, string>, field: string, fn: () => void): void {
  try {
    fn();
  } catch (e) {
    if (!(e instanceof GatehouseError)) throw e;
    errs[field] ??= e.message;
  }
}

function levelErrors(p: PolicySnapshot, l: WorkflowLevel): string | null {
  const a = l.authority;
  if (a.kind === 'group-members' && !p.userGroupsByName.has(a.group)) return `No user group named '${a.group}'`;
  if (a.kind === 'users') {
    const unknown = a.users.filter((u) => !p.usersByName.has(u));
    if (unknown.length) return `No user named ${unknown.map((u) => `'${u}'`).join(', ')}`;
  }
  return null;
}

/**
 * Validates a whole workflow against the snapshot. `self` is the workflow being edited (its own name and
 * pair are not a conflict). Throws FieldErrors with every problem found.
 */
export function checkWorkflow(p: PolicySnapshot, input: WorkflowInput, self?: Workflow): CheckedWorkflow {
  const errs: Record<string, string> = {};
  tryField(errs, 'name', () => checkName('workflow', input.name));
  const taken = [...p.workflows.values()].find((w) => w.name === input.name);
  if (taken && taken.id !== self?.id) errs.name ??= `A workflow named '${input.name}' already exists`;
  const ug = p.userGroupsByName.get(input.userGroup);
  if (!ug) errs.userGroup = input.userGroup ? `No user group named '${input.userGroup}'` : 'User group is required';
  const dg = [...p.deviceGroupsById.values()].find((g) => g.name === input.deviceGroup);
  if (!dg) errs.deviceGroup = input.deviceGroup ? `No device group named '${input.deviceGroup}'` : 'Device group is required';
  if (!input.levels.length) errs.levels = 'A workflow needs at least one level';
  if (input.levels.length > 5) errs.levels = 'A workflow has at most 5 levels';
  const levels: WorkflowLevel[] = [];
  input.levels.forEach((spec, i) => {
    tryField(errs, `levels.${i}`, () => {
      const l = typeof spec === 'string' ? parseLevel(spec) : spec;
      const bad = levelErrors(p, l);
      if (bad) throw new GatehouseError('not_found', bad);
      levels.push(l);
    });
  });
  if (ug && dg) {
    const pair = p.workflows.get(`${ug.id}:${dg.id}`);
    if (pair && pair.id !== self?.id)
      errs.deviceGroup ??= `Workflow '${pair.name}' already covers user group '${ug.name}' and device group '${dg.name}'`;
  }
  if (Object.keys(errs).length || !ug || !dg) throw new FieldErrors(errs);
  return { name: input.name, userGroupId: ug.id, deviceGroupId: dg.id, levels };
}

const active = (p: PolicySnapshot, ids: Iterable<number>): User[] =>
  [...new Set(ids)].map((id) => p.usersById.get(id)).filter((u): u is User => u !== undefined && !u.disabled);

/** The people a level names for some requester of `userGroupId` (line-manager: any member's manager). */
function levelPeople(p: PolicySnapshot, l: WorkflowLevel, userGroupId: number): { people: User[]; why: string } {
  const a = l.authority;
  const ug = p.userGroupsById.get(userGroupId);
  switch (a.kind) {
    case 'group-manager':
      return { people: active(p, ug?.managerIds ?? []), why: `user group '${ug?.name ?? '?'}' has no enabled manager` };
    case 'line-manager': {
      const managers = (ug?.memberIds ?? []).map((m) => p.usersById.get(m)?.managerId).filter((x): x is number => x != null);
      return { people: active(p, managers), why: `no member of user group '${ug?.name ?? '?'}' has an enabled line manager` };
    }
    case 'group-members':
      return { people: active(p, p.userGroupsByName.get(a.group)?.memberIds ?? []), why: `user group '${a.group}' has no enabled member` };
    case 'users':
      return {
        people: active(
          p,
          a.users.map((n) => p.usersByName.get(n)?.id).filter((x): x is number => x !== undefined),
        ),
        why: `${a.users.join(', ')} ${a.users.length > 1 ? 'are all' : 'is'} disabled or unknown`,
      };
  }
}

/**
 * Dead ends: a level that names nobody (every request stops there: it cannot be made, the requester
 * is told no approver exists), or fewer people than its quorum (a request waits until it expires).
 */
export function workflowWarnings(p: PolicySnapshot, w: { userGroupId: number; levels: WorkflowLevel[] }): FieldWarning[] {
  const out: FieldWarning[] = [];
  w.levels.forEach((l, i) => {
    const { people, why } = levelPeople(p, l, w.userGroupId);
    const field = `levels.${i}`;
    if (people.length === 0)
      out.push({ field, message: `Level ${i + 1} names nobody: ${why}, so requests under this workflow cannot be made` });
    else if (l.authority.kind !== 'line-manager' && people.length < l.quorum)
      out.push({
        field,
        message: `Level ${i + 1} needs ${l.quorum} approvals but names only ${people.length} (${people.map((u) => u.username).join(', ')}): requests wait until they expire`,
      });
  });
  return out;
}

/** A workflow as the audit log shows it: names, not ids. */
export function workflowView(p: PolicySnapshot, w: { name: string; userGroupId: number; deviceGroupId: number; levels: WorkflowLevel[] }) {
  return {
    name: w.name,
    userGroup: p.userGroupsById.get(w.userGroupId)?.name ?? null,
    deviceGroup: p.deviceGroupsById.get(w.deviceGroupId)?.name ?? null,
    levels: w.levels,
  };
}
