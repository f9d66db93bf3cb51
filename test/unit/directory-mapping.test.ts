// Mapping directory entries, without a server: nested groups with a cycle, memberOf mode, the AD in-chain
// answer, owners that are groups, names made safe, entries skipped with a reason, DN normalisation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseSettings } from '../../src/directory/config.js';
import { escapeFilter } from '../../src/directory/ldap.js';
import { groupNameOf, mapDirectory, normDn } from '../../src/directory/mapping.js';

const base = { url: 'ldap://dir:389', bindDn: 'cn=x', userBase: 'ou=p', groupBase: 'ou=g' };
const u = (uid: string, extra: Record<string, string | string[]> = {}) => ({
  dn: `uid=${uid},ou=p`,
  uid,
  cn: uid.toUpperCase(),
  mail: `${uid}@example.com`,
  ...extra,
});
const g = (cn: string, member: string[], extra: Record<string, string | string[]> = {}) => ({ dn: `cn=${cn},ou=g`, cn, member, ...extra });

test('nested groups resolve transitively, and a cycle ends', () => {
  const m = mapDirectory(
    {
      users: [u('a'), u('b'), u('c')],
      groups: [g('top', ['cn=mid,ou=g', 'uid=a,ou=p']), g('mid', ['CN=Low, OU=g']), g('low', ['uid=c,ou=p', 'cn=top,ou=g'])],
    },
    parseSettings(base),
  );
  const members = (n: string) => m.groups.get(`cn=${n},ou=g`)!.memberKeys;
  assert.deepEqual(members('top'), ['uid=a,ou=p', 'uid=c,ou=p']);
  assert.deepEqual(members('low'), ['uid=a,ou=p', 'uid=c,ou=p'], 'through the cycle back to top');
});

test('memberOf mode: from the users and the groups', () => {
  const m = mapDirectory(
    {
      users: [u('a', { memberOf: 'cn=low,ou=g' }), u('b', { memberOf: ['cn=top,ou=g'] })],
      groups: [g('top', []), g('low', [], { memberOf: 'cn=top,ou=g' })],
    },
    parseSettings({ ...base, membership: 'memberOf' }),
  );
  assert.deepEqual(m.groups.get('cn=top,ou=g')!.memberKeys, ['uid=a,ou=p', 'uid=b,ou=p']);
});

test('in-chain: the server answer is used as is; group owners that are groups give their members', () => {
  const m = mapDirectory(
    {
      users: [u('a'), u('b')],
      groups: [g('x', [], { owner: 'cn=y,ou=g' }), g('y', ['uid=b,ou=p'])],
      chainMembers: new Map([
        ['cn=x,ou=g', ['uid=a,ou=p']],
        ['cn=y,ou=g', ['uid=b,ou=p']],
      ]),
    },
    parseSettings({ ...base, inChain: true }),
  );
  assert.deepEqual(m.groups.get('cn=x,ou=g')!.memberKeys, ['uid=a,ou=p']);
  assert.deepEqual(m.groups.get('cn=x,ou=g')!.ownerKeys, ['uid=b,ou=p']);
});

test('usernames lower-cased; bad or duplicate names skipped with a reason; a manager outside the set is dropped', () => {
  const m = mapDirectory(
    {
      users: [u('Ann', { manager: 'uid=ghost,ou=p' }), u('9bad'), { dn: 'uid=dup,ou=x', uid: 'ann' }, { dn: 'cn=nouid,ou=p', cn: 'x' }],
      groups: [g('Ops Team!', []), g('***', [])],
    },
    parseSettings(base),
  );
  assert.deepEqual(
    [...m.users.values()].map((x) => [x.username, x.managerKey]),
    [['ann', null]],
  );
  assert.equal(m.skipped.length, 4);
  assert.deepEqual(
    [...m.groups.values()].map((x) => x.name),
    ['Ops-Team'],
  );
});

test('DNs compare without case and spaces; filter values are escaped', () => {
  assert.equal(normDn('CN=Ops Team , OU=Groups,DC=Example'), 'cn=ops team,ou=groups,dc=example');
  assert.equal(groupNameOf('  Domain Admins '), 'Domain-Admins');
  assert.equal(escapeFilter('cn=a*(b)\\c'), 'cn=a\\2a\\28b\\29\\5cc');
});

test('settings are validated with the field named', () => {
  assert.throws(() => parseSettings({ ...base, url: 'http://x' }), /url/);
  assert.throws(() => parseSettings({ ...base, userFilter: 'uid=*' }), /parentheses/);
  assert.throws(() => parseSettings({ ...base, membership: 'both' }), /membership/);
  assert.equal(parseSettings(base).attributes.username, 'uid');
});
