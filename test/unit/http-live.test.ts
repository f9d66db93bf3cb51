// The HTTP proxy's list of what an access has open (src/protocols/http/live.ts): entries come and go with
// every request, all are cut at once when the session ends, and a removed entry keeps no links.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LiveList, type LiveEntry } from '../../src/protocols/http/live.js';

const item = (log: string[], name: string) => ({ destroy: () => log.push(name) });

test('entries added and removed in any order; removing twice does nothing', () => {
  const log: string[] = [];
  const l = new LiveList();
  const [a, b, c] = ['a', 'b', 'c'].map((n) => l.add(item(log, n)));
  l.remove(b);
  l.remove(b);
  assert.equal(l.size, 2);
  l.remove(a);
  l.remove(c);
  assert.equal(l.size, 0);
  l.destroyAll();
  assert.deepEqual(log, [], 'nothing left to destroy');
});

test('a removed entry drops its links, so it holds nothing alive', () => {
  const l = new LiveList();
  const a = l.add({ destroy() {} });
  const b = l.add({ destroy() {} });
  const c = l.add({ destroy() {} });
  l.remove(b);
  assert.deepEqual([b.prev, b.next, b.list], [null, null, null]);
  assert.equal(c.next, a, 'its neighbours are joined');
  assert.equal(a.prev, c);
});

test('destroyAll destroys each entry once, even when destroying one removes others', () => {
  const log: string[] = [];
  const l = new LiveList();
  const entries: LiveEntry[] = [];
  // Destroying a response closes it, and its close handler removes its own entry (and here another's).
  for (const n of ['a', 'b', 'c', 'd'])
    entries.push(
      l.add({
        destroy: () => {
          log.push(n);
          for (const e of entries) l.remove(e);
        },
      }),
    );
  l.destroyAll();
  assert.deepEqual(log.sort(), ['a', 'b', 'c', 'd']);
  assert.equal(l.size, 0);
  for (const e of entries) assert.deepEqual([e.prev, e.next, e.list], [null, null, null]);
  const later = l.add({ destroy() {} });
  assert.equal(l.size, 1, 'the list takes new entries afterwards');
  l.remove(later);
});
