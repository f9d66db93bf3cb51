// The stderr wait view (exec, sftp, scp) repeats its line after 30 s, then ever less often up to every
// 4 minutes: a long wait does not fill the terminal, and 10,000 waits cost the gateway little.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ServerChannel } from 'ssh2';
import { StderrWaitView, stderrRepeatDelay } from '../../src/protocols/ssh/waitview.js';
import type { WaitingInfo } from '../../src/protocols/ssh/gate.js';
import type { ApprovalRequest } from '../../src/core/types.js';

function channel() {
  const lines: string[] = [];
  const ch = { stderr: { write: (s: string) => (lines.push(s), true) } } as unknown as ServerChannel;
  return { ch, lines };
}

const info = (level = 1): WaitingInfo => ({
  request: { id: 7, expiresAt: null } as ApprovalRequest,
  reused: false,
  device: 'web01',
  account: 'root',
  approvers: ['bob'],
  level,
  levels: 2,
  why: 'your group needs approval',
});

test('the delay doubles from 30 s and stays at 4 minutes', () => {
  assert.deepEqual([0, 1, 2, 3, 4, 10].map(stderrRepeatDelay), [30_000, 60_000, 120_000, 240_000, 240_000, 240_000]);
});

test('lines come at 30 s, 90 s, 210 s, then every 4 minutes; a new level starts the schedule again', (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const { ch, lines } = channel();
  const view = new StderrWaitView(ch, () => 0);
  view.show(info());
  const repeats = () => lines.filter((l) => l.startsWith('gatehouse: request #7 is waiting')).length - 1;
  const at = (ms: number) => (t.mock.timers.tick(ms), repeats());
  assert.equal(repeats(), 0);
  assert.equal(at(29_999), 0);
  assert.equal(at(1), 1, 'at 30 s');
  assert.equal(at(60_000), 2, 'at 90 s');
  assert.equal(at(120_000), 3, 'at 210 s');
  assert.equal(at(240_000), 4, 'at 450 s');
  assert.equal(at(240_000), 5, 'at 690 s');
  view.show(info(2));
  assert.equal(repeats(), 6, 'the new level is shown at once');
  assert.equal(at(30_000), 7, 'and again 30 s later');
  view.end();
  assert.equal(at(10 * 240_000), 7, 'nothing after the end');
});
