// Directory settings: where the LDAP / Active Directory server is, how to bind, where users and groups
// live, and which attribute means what. Stored as JSON in directory_config; the bind password is kept
// apart, sealed in the vault, and never shown.
import { z } from 'zod';
import { invalid } from '../core/errors.js';

export const DirectoryAttributes = z.object({
  /** Login name: `uid` (OpenLDAP) or `sAMAccountName` (AD). Lower-cased locally. */
  username: z.string().min(1).default('uid'),
  email: z.string().min(1).default('mail'),
  displayName: z.string().min(1).default('cn'),
  /** A DN: the person's line manager. */
  manager: z.string().min(1).default('manager'),
  /** On groups: member DNs (users or nested groups). */
  member: z.string().min(1).default('member'),
  /** On users (and nested groups): the groups they belong to. Used when membership = memberOf. */
  memberOf: z.string().min(1).default('memberOf'),
  groupName: z.string().min(1).default('cn'),
  /** On groups: the owner DN(s) that become the group's managers (`managedBy` in AD, `owner` in OpenLDAP). */
  groupOwner: z.string().min(1).default('owner'),
});

export const DirectorySettings = z.object({
  url: z.string().regex(/^ldaps?:\/\/[^\s/]+\/?$/i, 'the URL must look like ldap://host:389 or ldaps://host:636'),
  startTls: z.boolean().default(false),
  /** PEM file of the CA that signed the server's certificate (ldaps or StartTLS). */
  caFile: z.string().nullable().default(null),
  bindDn: z.string().min(1),
  userBase: z.string().min(1),
  userFilter: z.string().default('(objectClass=inetOrgPerson)'),
  groupBase: z.string().min(1),
  groupFilter: z.string().default('(|(objectClass=groupOfNames)(objectClass=group))'),
  /** Where membership is read: the groups' `member` or the users' `memberOf`. Nesting is resolved either way. */
  membership: z.enum(['member', 'memberOf']).default('member'),
  /** Active Directory only: ask the server for transitive members with LDAP_MATCHING_RULE_IN_CHAIN. */
  inChain: z.boolean().default(false),
  attributes: DirectoryAttributes.default(DirectoryAttributes.parse({})),
  /** Minutes between scheduled syncs; 0 = only on demand. */
  intervalMinutes: z
    .number()
    .int()
    .min(0)
    .max(7 * 24 * 60)
    .default(60),
  /** Seconds to wait for the server (connect and each operation). */
  timeoutSeconds: z.number().int().min(1).max(300).default(10),
});
export type DirectorySettings = z.infer<typeof DirectorySettings>;
export type DirectoryAttributes = z.infer<typeof DirectoryAttributes>;

/** The source marker on synced users and groups. */
export const DIRECTORY_SOURCE = 'ldap';

/** Validates settings, with a message that names the field. */
export function parseSettings(raw: unknown): DirectorySettings {
  const r = DirectorySettings.safeParse(raw);
  if (r.success) {
    for (const f of [r.data.userFilter, r.data.groupFilter])
      if (!/^\(.*\)$/s.test(f.trim())) throw invalid(`LDAP filter '${f.slice(0, 80)}' must be in parentheses`, 'filter');
    return r.data;
  }
  const i = r.error.issues[0];
  const field = i.path.join('.') || 'settings';
  throw invalid(`directory setting '${field}': ${i.message}`, field);
}
