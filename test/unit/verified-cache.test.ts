// The verified-password cache: a repeat of a right password skips the slow hash for at most its TTL;
// wrong passwords, unknown users and a changed hash always reach the real hasher; 20 parallel guesses
// each pay the full price.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { cachingHasher } from '../../src/crypto/verified-cache.js';
import type { PasswordHasher } from '../../src/core/ports/crypto.js';

function counting(): PasswordHasher & { calls: number } {
  const h = {
    calls: 0,
    hash: async (pw: string) => `h:${pw}`,
    async verify(stored: string | null, pw: string) {
      h.calls++;
      return stored === `h:${pw}`;
    },
  };
  return h;
}

describe('verified-password cache', () => {
  test('a right password is verified once per TTL; then again', async () => {
    let t = 1000;
    const inner = counting();
    const c = cachingHasher(inner, 60_000, () => t);
    assert.equal(await c.verify('h:right', 'right'), true);
    assert.equal(await c.verify('h:right', 'right'), true);
    assert.equal(inner.calls, 1);
    t += 60_001;
    assert.equal(await c.verify('h:right', 'right'), true);
    assert.equal(inner.calls, 2);
  });

  test('wrong passwords, unknown users and a changed hash always pay the real hasher', async () => {
    const inner = counting();
    const c = cachingHasher(inner);
    assert.equal(await c.verify('h:right', 'right'), true);
    assert.equal(await c.verify('h:right', 'wrong'), false);
    assert.equal(await c.verify('h:right', 'right\0'), false);
    assert.equal(await c.verify(null, 'right'), false);
    // The password changed: a new stored hash, the old password no longer matches anything cached.
    assert.equal(await c.verify('h:new', 'right'), false);
    assert.equal(inner.calls, 5);
  });

  test('20 parallel wrong guesses each reach the real hasher; none is cached', async () => {
    const inner = counting();
    const c = cachingHasher(inner);
    await c.verify('h:right', 'right');
    const r = await Promise.all(Array.from({ length: 20 }, (_, i) => c.verify('h:right', `guess${i}`)));
    assert.ok(r.every((ok) => !ok));
    assert.equal(await c.verify('h:right', 'guess1'), false);
    assert.equal(inner.calls, 22);
  });
});
