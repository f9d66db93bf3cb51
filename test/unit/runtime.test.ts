// The runtime flags the launcher gives node (src/runtime.ts): parsed from node's arguments and
// NODE_OPTIONS, and the same in the shebang and `npm start` (test/e2e/runtime.test.ts starts a real serve).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RUNTIME_FLAGS, semiSpaceMb } from '../../src/runtime.js';

const root = fileURLToPath(new URL('../../', import.meta.url));

test('semiSpaceMb reads the flag from node arguments and NODE_OPTIONS, or says default', () => {
  assert.equal(semiSpaceMb([], ''), null);
  assert.equal(semiSpaceMb(['--max-semi-space-size=64'], ''), 64);
  assert.equal(semiSpaceMb(['--max_semi_space_size', '32'], ''), 32);
  assert.equal(semiSpaceMb([], '--max-old-space-size=2048 --max-semi-space-size=48'), 48);
  // Arguments override NODE_OPTIONS, as node applies them after it.
  assert.equal(semiSpaceMb(['--max-semi-space-size=64'], '--max-semi-space-size=16'), 64);
  assert.equal(semiSpaceMb(['--max-semi-space-size=lots'], ''), null);
});

test('the launcher shebang and npm start give node the same runtime flags', () => {
  const shebang = readFileSync(join(root, 'bin/gatehouse.js'), 'utf8').split('\n')[0];
  assert.equal(shebang, `#!/usr/bin/env -S node ${RUNTIME_FLAGS.join(' ')}`);
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
  assert.equal(pkg.scripts.start, `node ${RUNTIME_FLAGS.join(' ')} bin/gatehouse.js serve`);
  assert.equal(pkg.scripts.demo, `node ${RUNTIME_FLAGS.join(' ')} bin/gatehouse.js demo`);
});
