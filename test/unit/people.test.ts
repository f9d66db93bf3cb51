// One name everywhere: the presenters' person and outcome wording, and the mail templates that use it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_TEMPLATES_DIR } from '../../src/notify/config.js';
import { render } from '../../src/notify/templates.js';
import { approverManagerText, NOBODY_NAMED, outcomeText, peopleLine, personName } from '../../src/presenters/index.js';

const bob = { username: 'bob', displayName: 'Bob Manager' };

test('a person is "Display Name (username)"; the username alone when there is no other name', () => {
  assert.equal(personName(bob), 'Bob Manager (bob)');
  assert.equal(personName({ username: 'bob', displayName: '' }), 'bob');
  assert.equal(personName({ username: 'bob', displayName: 'bob' }), 'bob');
  assert.equal(personName({ username: 'eve', displayName: 'E\x1b[2Jve' }), 'E[2Jve (eve)');
  assert.equal(personName(undefined, 9), '#9');
  assert.equal(peopleLine([]), NOBODY_NAMED);
  assert.equal(peopleLine(['Bob Manager (bob)', 'carol']), 'Bob Manager (bob), carol');
});

test('the Approver Manager of a decided request is the decider; an expired request says "expired <time>"', () => {
  const base = { approverManager: [], decidedBy: null, decidedAt: null, expiresAt: '2026-12-05T06:00:00Z' };
  assert.equal(approverManagerText({ ...base, status: 'waiting', approverManager: ['Bob Manager (bob)'] }), 'Bob Manager (bob)');
  assert.equal(approverManagerText({ ...base, status: 'waiting' }), NOBODY_NAMED);
  const approved = { ...base, status: 'approved', decidedBy: 'Bob Manager (bob)', decidedAt: '2026-12-05T05:40:00Z' };
  assert.equal(approverManagerText(approved), 'Bob Manager (bob)');
  assert.equal(outcomeText(approved), 'approved by Bob Manager (bob) at 2026-12-05T05:40:00Z');
  const expired = { ...base, status: 'expired' };
  assert.equal(outcomeText(expired), 'expired 2026-12-05T06:00:00Z');
  assert.equal(approverManagerText(expired), NOBODY_NAMED);
  assert.equal(outcomeText({ ...base, status: 'waiting' }), null);
});

test('mail: the requester line and the outcome use the same name; an expired request is not "decided"', () => {
  const vars = { id: 3, instance: 'Acme', requester: 'Alice Smith (alice)', requesterEmail: 'a@example.com' };
  assert.match(render([DEFAULT_TEMPLATES_DIR], 'approver', vars).text, /Requester: +Alice Smith \(alice\), a@example.com/);
  const expired = render([DEFAULT_TEMPLATES_DIR], 'requester', { ...vars, outcome: 'expired 2026-12-05T06:00:00Z' });
  assert.match(expired.text, /Outcome: +expired 2026-12-05T06:00:00Z/);
  assert.doesNotMatch(expired.text + (expired.html ?? ''), /decided/i);
});
