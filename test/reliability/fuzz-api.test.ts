/* eslint-disable @typescript-eslint/no-explicit-any -- OpenAPI documents and JSON bodies */
// Hostile JSON against every API route the OpenAPI document lists (/api/docs/json), as an admin, as a
// plain user and unauthenticated: random path parameters, bodies shaped like the schema with hostile
// values (SQL metacharacters, markup, control characters, huge strings, wrong types), and free-form
// JSON. No 5xx, no hang (each request has a deadline), and the server still answers afterwards.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, tokenClient, Client, type Server } from '../api/helpers.js';
import { Rng, SEED, forAWhile } from './rng.js';

const BUDGET_MS = Number(process.env.GATEHOUSE_FUZZ_API_MS ?? 25_000);
const SKIP_PATH = /\/events$|\/stream|\/status$/; // server-sent event streams never end by design

let srv: Server;
before(async () => {
  srv = await startServer('sqlite');
});
after(async () => {
  await srv?.stop();
});

function bodyFor(r: Rng, schema: any, depth = 0): unknown {
  if (!schema || depth > 3 || r.next() < 0.15) return r.json(2);
  if (schema.type === 'object' || schema.properties) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries<any>(schema.properties ?? {})) if (r.next() < 0.8) out[k] = bodyFor(r, v, depth + 1);
    if (r.next() < 0.2) out[r.str(10)] = r.json(1);
    return out;
  }
  if (schema.type === 'array') return Array.from({ length: r.int(4) }, () => bodyFor(r, schema.items, depth + 1));
  if (schema.enum && r.next() < 0.5) return r.pick(schema.enum);
  if (schema.type === 'integer' || schema.type === 'number') return r.pick([0, 1, 2, -1, 2 ** 31, 2 ** 53, 1e300, r.int(100)]);
  if (schema.type === 'boolean') return r.next() < 0.5;
  return r.str(60);
}

test('every API route: hostile bodies and parameters never give a 5xx or hang', async () => {
  const r = new Rng(SEED + 3);
  const docRes = await fetch(`${srv.base}/api/docs/json`);
  assert.equal(docRes.status, 200);
  const doc = (await docRes.json()) as any;
  const ops: { method: string; path: string; schema: any }[] = [];
  for (const [path, item] of Object.entries<any>(doc.paths))
    for (const [method, op] of Object.entries<any>(item)) {
      if (!['get', 'post', 'put', 'patch', 'delete'].includes(method) || SKIP_PATH.test(path)) continue;
      ops.push({ method: method.toUpperCase(), path, schema: op.requestBody?.content?.['application/json']?.schema ?? null });
    }
  assert.ok(ops.length > 20, `only ${ops.length} operations documented`);

  const clients: Record<string, Client> = {
    admin: await tokenClient(srv.base, 'admin'),
    alice: await tokenClient(srv.base, 'alice'),
    anonymous: new Client(srv.base),
  };
  const statuses: Record<number, number> = {};
  const failures: string[] = [];
  const param = () =>
    String(
      r.pick<unknown>([
        1,
        2,
        3,
        0,
        -1,
        99999999,
        'web01',
        'alice',
        'abc',
        "1' OR '1'='1",
        '1;DROP TABLE users',
        '%00',
        '..%2f..',
        encodeURIComponent(Buffer.from(r.str(20)).toString()) || 'x',
        'x'.repeat(5000),
      ]),
    );
  const send = async (who: string, op: (typeof ops)[number]) => {
    const path = op.path.replace(/\{[^}]+\}/g, () => param()).replace(/:[A-Za-z]+/g, () => param());
    const body = op.method === 'GET' || op.method === 'DELETE' ? undefined : r.next() < 0.8 ? bodyFor(r, op.schema) : r.json(3);
    const c = clients[who];
    const h: Record<string, string> = { 'content-type': 'application/json' };
    if (c.token) h.authorization = `Bearer ${c.token}`;
    let status: number;
    try {
      const res = await fetch(srv.base + path, {
        method: op.method,
        headers: body === undefined ? (c.token ? { authorization: h.authorization } : {}) : h,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(10_000),
      });
      status = res.status;
      const text = await res.text();
      if (status >= 500)
        failures.push(
          `${who} ${op.method} ${path.slice(0, 120)} ${JSON.stringify(body)?.slice(0, 300)} -> ${status} ${text.slice(0, 200)}`,
        );
    } catch (err) {
      status = 0;
      failures.push(`${who} ${op.method} ${path.slice(0, 120)} -> no answer: ${(err as Error).message}`);
    }
    statuses[status] = (statuses[status] ?? 0) + 1;
    // A fuzzed call may revoke the token in use or log a user out: take a fresh one.
    if (status === 401 && who !== 'anonymous') clients[who] = await tokenClient(srv.base, who).catch(() => clients[who]);
  };
  // Every operation at least once per caller, then random ones until the budget is spent.
  for (const op of ops) for (const who of Object.keys(clients)) await send(who, op);
  const n = await forAWhile(BUDGET_MS, 50_000, () => send(r.pick(Object.keys(clients)), r.pick(ops)));
  console.log(
    `# API: ${ops.length} operations, ${ops.length * 3 + n} hostile requests, statuses ${JSON.stringify(statuses)}, seed ${SEED}`,
  );
  assert.deepEqual(failures.slice(0, 20), []);
  const health = await fetch(`${srv.base}/healthz`);
  assert.ok(health.status < 500);
});
