// Schema errors in words: one message per field, all at once, never AJV's own text.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bodyFieldErrors, labelOf, schemaFieldErrors } from '../../src/api/field-errors.js';
import { NewUser } from '../../src/api/routes/users/schema.js';
import { NewUserGroup } from '../../src/api/routes/user-groups/schema.js';
import { closeObjects } from '../../src/api/server.js';

test('AJV errors become words per field; a nullable field says its real problem once', () => {
  const r = schemaFieldErrors([
    { keyword: 'minLength', instancePath: '/username', params: { limit: 1 } },
    { keyword: 'maxLength', instancePath: '/email', params: { limit: 320 } },
    { keyword: 'type', instancePath: '/email', params: { type: 'null' } },
    { keyword: 'anyOf', instancePath: '/email', params: {} },
    { keyword: 'required', instancePath: '', params: { missingProperty: 'name' } },
    { keyword: 'additionalProperties', instancePath: '', params: { additionalProperty: 'junk' } },
    { keyword: 'format', instancePath: '/start', params: { format: 'date-time' } },
  ]);
  assert.deepEqual(r.fields, {
    username: 'Username is required',
    email: 'Email has at most 320 characters',
    name: 'Name is required',
    junk: "unknown field 'junk'",
    start: 'Start must be a date and time',
  });
  assert.equal(r.field, 'username');
  assert.match(r.message, /^Username is required; Email has at most 320 characters; /);
  assert.equal(labelOf('requireApproval'), 'Required Managerial Approval');
  assert.equal(labelOf('allowPortForwarding'), 'Allow port forwarding');
});

test('a body read again against its closed schema: every field, list items by number, enums listed', () => {
  const r = bodyFieldErrors(closeObjects(NewUser), { username: '', password: 'short', sshKeys: ['ok', {}], admin: 'yes', zz: 1 })!;
  assert.deepEqual(r.fields, {
    zz: "unknown field 'zz'",
    username: 'Username is required',
    password: 'Password needs at least 8 characters',
    sshKeys: 'SSH keys: item 2 must be text',
    admin: 'Admin must be true or false',
  });
  const g = bodyFieldErrors(closeObjects(NewUserGroup), { members: Array.from({ length: 100_000 }, () => ({})) })!;
  assert.equal(g.fields.name, 'Name is required');
  assert.equal(g.fields.members, 'Members has at most 1000 items');
  assert.equal(bodyFieldErrors({ not: 'typebox' }, {}), null, 'a schema TypeBox cannot read falls back');
});

test('what Fastify would coerce is not reported', () => {
  const r = bodyFieldErrors(closeObjects(NewUser), { username: '', admin: 'true' })!;
  assert.deepEqual(r.fields, { username: 'Username is required' });
});
