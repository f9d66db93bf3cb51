import { test } from 'node:test';
import assert from 'node:assert/strict';
import { REDIRECT_MAX_LENGTH, safeRedirect } from '../../src/core/redirect.js';
import { Rng } from '../reliability/rng.js';
import { ODD_CHARS, OFFSITE, browserResolve, hostileTargets } from '../reliability/redirect-payloads.js';

const GW = 'http://grafana.localhost:8081/some/page';
const ORIGIN = new URL(GW).origin;

/** The result is a same-origin absolute path a browser lands on as checked, and stable when checked again. */
function assertSafe(input: string, out: string) {
  const why = `${JSON.stringify(input)} -> ${JSON.stringify(out)}`;
  assert.match(out, /^\/(?!\/)[\x21-\x7e]*$/, why);
  assert.equal(browserResolve(out, GW)?.origin, ORIGIN, why);
  assert.equal(safeRedirect(out), out, `idempotent: ${why}`);
}

test('the reproduction and every off-site target answer "/"', () => {
  assert.equal(safeRedirect('/\t/evil.test'), '/');
  assert.equal(safeRedirect(decodeURIComponent('%2F%09%2Fevil.test')), '/');
  for (const t of OFFSITE.filter((x) => !x.startsWith('/%'))) assert.equal(safeRedirect(t), '/', t);
});

test('every C0 control, DEL and Unicode space or format character, anywhere, is refused', () => {
  let n = 0;
  for (const c of ODD_CHARS) {
    for (const t of ['/a', '/a/b?x=1', '/#h', '/ok/']) {
      for (let at = 0; at <= t.length; at++) {
        const v = t.slice(0, at) + c + t.slice(at);
        assert.equal(safeRedirect(v), '/', JSON.stringify(v));
        n++;
      }
    }
  }
  assert.ok(n > 1000);
});

test('every hostile target gives a same-origin path; none throws', () => {
  let n = 0;
  for (const t of hostileTargets()) {
    assertSafe(t, safeRedirect(t));
    assertSafe(t, safeRedirect(t, 'https://gw.example:9443/'));
    n++;
  }
  assert.ok(n > 2000, `${n} targets`);
});

test('same-origin paths are kept, normalised as a browser would', () => {
  assert.equal(safeRedirect('/'), '/');
  assert.equal(safeRedirect('/d/abc?orgId=1&from=now-6h#panel-2'), '/d/abc?orgId=1&from=now-6h#panel-2');
  assert.equal(safeRedirect('/a/./b/../c'), '/a/c');
  assert.equal(safeRedirect('/../../etc'), '/etc');
  assert.equal(safeRedirect('/caf\u00e9?q=\u00fc'), '/caf%C3%A9?q=%C3%BC');
  assert.equal(safeRedirect('/%2F/evil.test'), '/%2F/evil.test', 'an encoded slash stays in the path');
  assert.equal(safeRedirect('/?next=//evil.test'), '/?next=//evil.test', 'the query is not a location');
  assert.equal(safeRedirect('/x#//evil.test'), '/x#//evil.test');
  assert.equal(safeRedirect('/@evil.test'), '/@evil.test');
  assert.equal(safeRedirect('/a#'), '/a');
});

test('anything that is not a non-empty string of a sane length answers "/"', () => {
  for (const v of [undefined, null, 0, 1, {}, [], '', 'relative/path', '?x=1', '#h', `/${'a'.repeat(REDIRECT_MAX_LENGTH)}`])
    assert.equal(safeRedirect(v), '/', String(v));
  assert.equal(safeRedirect('/ok', 'not a url'), '/');
  assert.equal(safeRedirect('/ok', 'javascript:void(0)'), '/');
  assert.equal(safeRedirect('/\ud800x'), '/', 'a lone surrogate');
});

test('random strings built from URL metacharacters never leave the origin', () => {
  const rng = new Rng();
  const parts = [
    '/',
    '/',
    '//',
    '\\',
    '.',
    '..',
    ':',
    '@',
    '%2F',
    '%5C',
    '%09',
    '%2e',
    '#',
    '?',
    'evil.test',
    'http:',
    'https:',
    'javascript:',
    'a',
    ...ODD_CHARS,
  ];
  for (let i = 0; i < 20_000; i++) {
    let v = '';
    for (let k = 1 + rng.int(8); k > 0; k--) v += rng.pick(parts);
    assertSafe(v, safeRedirect(v));
  }
});
