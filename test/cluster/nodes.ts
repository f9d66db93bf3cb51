// Real gateway node processes for cluster tests and benchmarks.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, waitForPort } from '../ssh/peers.js';

const ENTRY = fileURLToPath(new URL('../helpers/cli-entry.ts', import.meta.url));

export interface Node {
  name: string;
  proc: ChildProcess;
  web: number;
  ssh: number;
  dir: string;
  log: string[];
}

export async function startNode(name: string, env: Record<string, string>): Promise<Node> {
  const [web, ssh] = [await freePort(), await freePort()];
  const dir = mkdtempSync(join(tmpdir(), `gh-node-${name}-`));
  const log: string[] = [];
  const proc = spawn(process.execPath, ['--import', 'tsx', ENTRY, 'serve'], {
    env: {
      ...process.env, ...env, GATEHOUSE_DATA_DIR: dir, GATEHOUSE_NODE_ID: `node-${name}`, GATEHOUSE_WEB_PORT: String(web), GATEHOUSE_SSH_PORT: String(ssh),
      GATEHOUSE_HTTP_PROXY_PORT: '0', GATEHOUSE_RDP_PORT: '0', GATEHOUSE_LOG_LEVEL: 'warn', GATEHOUSE_SWEEP_MS: '300',
      GATEHOUSE_MAIL_RETRY_BASE_MS: '100', GATEHOUSE_MAIL_RETRY_MAX_MS: '400', GATEHOUSE_MAIL_POLL_MS: '100',
      // A mail claimed by a node that is then killed goes out again once its lease passes: with the
      // default 60 s that fell right at the kill -9 test's 60 s wait under load (it failed once).
      GATEHOUSE_MAIL_LEASE_MS: '15000',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  proc.stdout!.on('data', (d) => log.push(String(d)));
  proc.stderr!.on('data', (d) => log.push(String(d)));
  await waitForPort(web, 60_000);
  await waitForPort(ssh, 60_000);
  return { name, proc, web, ssh, dir, log };
}

/** A console login on one node: cookie + CSRF token, as the browser holds them. */
export async function login(node: Node, username: string, password: string) {
  const res = await fetch(`http://127.0.0.1:${node.web}/api/v1/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username, password }) });
  assert.equal(res.status, 200, await res.clone().text());
  const cookie = (res.headers.get('set-cookie') ?? '').split(';')[0];
  const body = (await res.json()) as { csrf?: string; csrfToken?: string };
  const csrf = body.csrf ?? body.csrfToken ?? '';
  return async (path: string, payload: unknown = {}) => {
    const r = await fetch(`http://127.0.0.1:${node.web}/api/v1${path}`, { method: 'POST', headers: { 'content-type': 'application/json', cookie, 'x-csrf-token': csrf }, body: JSON.stringify(payload) });
    return { status: r.status, body: (await r.json()) as Record<string, unknown> };
  };
}

