// The gateway's host keys: made once, kept, and always readable (ssh2's generator sometimes is not).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ssh2 from 'ssh2';
import { generateKey, loadHostKeys } from '../../src/protocols/ssh/hostkeys.js';

test('host keys are generated once with mode 0600 and reused', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gh-hk-'));
  try {
    const a = loadHostKeys(dir);
    assert.equal(a.length, 2);
    assert.equal(statSync(join(dir, 'ssh_host_ed25519_key')).mode & 0o777, 0o600);
    const b = loadHostKeys(dir);
    assert.deepEqual(b, a, 'the same keys on the next start');
    assert.match(readFileSync(join(dir, 'ssh_host_rsa_key.pub'), 'utf8'), /^ssh-rsa /);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('every generated ed25519 key can be read back', () => {
  for (let i = 0; i < 2000; i++) {
    const k = generateKey('ed25519');
    assert.ok(!(ssh2.utils.parseKey(k.private) instanceof Error));
  }
});
