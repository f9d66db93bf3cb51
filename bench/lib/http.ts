// A whole gateway in this process with the HTTP proxy, two upstream devices (a Node http server with a
// websocket echo, and nginx from Debian serving a static site), and a raw HTTP client that speaks to the
// proxy with any Host header.
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, request, type IncomingHttpHeaders, type Server } from 'node:http';
import { connect } from 'node:net';
import { mkdirSync, mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocketServer } from 'ws';
import { start, type Running } from '../../src/main.js';
import type { Actor } from '../../src/core/admin/service.js';
import type { Services } from '../../src/services.js';
import { hasBinary, missing } from './peers.js';
import { freePort } from './net.js';

export const ADMIN: Actor = { username: 'admin', id: null, channel: 'cli' };
export const PW = { admin: 'admin-pass-123', alice: 'alice-S3cret-pass', bob: 'bob-S3cret-pass', carol: 'carol-S3cret-pass' } as const;
export const NGINX = '/usr/sbin/nginx';
export const hasOpenssl = () => hasBinary('openssl');
export const NGINX_SKIP = missing('nginx', hasBinary('nginx') || hasBinary(NGINX), 'apt-get install nginx');

export { freePort };

export interface NodeUpstream {
  port: number;
  server: Server;
  /** Bytes the /big handler has written so far. */
  bigSent: number;
  seen: { path: string; headers: IncomingHttpHeaders }[];
  close(): Promise<void>;
}

/** A device web console: /hello, /headers (what it received), /redirect, /big?mb=N, /slow, websocket echo. */
export async function nodeUpstream(): Promise<NodeUpstream> {
  const u = { bigSent: 0, seen: [] } as unknown as NodeUpstream;
  const server = createServer((req, res) => {
    u.seen.push({ path: req.url ?? '', headers: req.headers });
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname === '/hello') return res.end('hello from upstream');
    if (url.pathname === '/headers') {
      res.setHeader('content-type', 'application/json');
      return res.end(JSON.stringify(req.headers));
    }
    if (url.pathname === '/redirect') {
      res.writeHead(302, { location: `http://127.0.0.1:${u.port}/hello?from=redirect` });
      return res.end();
    }
    if (url.pathname === '/set-cookie') {
      res.writeHead(200, { 'set-cookie': ['app=1; Path=/', '__gh_http=evil; Path=/'] });
      return res.end('ok');
    }
    if (url.pathname === '/slow') return void setTimeout(() => res.end('late'), 3000);
    if (url.pathname === '/post') {
      let n = 0;
      req.on('data', (c: Buffer) => (n += c.length));
      req.on('end', () => res.end(`got ${n}`));
      return;
    }
    if (url.pathname === '/big') {
      const total = Number(url.searchParams.get('mb') ?? '64') * 1024 * 1024;
      const chunk = Buffer.alloc(64 * 1024, 120);
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': total });
      const pump = () => {
        while (u.bigSent < total) {
          u.bigSent += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', pump);
        }
        res.end();
      };
      u.bigSent = 0;
      return pump();
    }
    res.statusCode = 404;
    res.end('no such page');
  });
  const wss = new WebSocketServer({ server });
  wss.on('connection', (ws) => ws.on('message', (m, isBinary) => ws.send(isBinary ? m : `echo: ${String(m)}`)));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  u.port = (server.address() as { port: number }).port;
  u.server = server;
  u.close = async () => {
    for (const c of wss.clients) c.terminate();
    wss.close();
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  };
  return u;
}

export interface Nginx {
  port: number;
  proc: ChildProcess;
  dir: string;
  stop(): Promise<void>;
}

/** nginx in the foreground on a free port: a static site, /auth echoes Authorization, /redirect, /ws to a websocket echo. */
export async function startNginx(opts: { wsPort?: number; proxyTo?: number } = {}): Promise<Nginx> {
  const dir = mkdtempSync(join(tmpdir(), 'gh-nginx-'));
  const port = await freePort();
  const root = join(dir, 'site');
  mkdirSync(root);
  writeFileSync(join(root, 'index.html'), '<!doctype html><title>nginx device</title><h1>served by nginx</h1>');
  writeFileSync(join(root, '1k.bin'), Buffer.alloc(1024, 97));
  writeFileSync(join(root, '64k.bin'), Buffer.alloc(64 * 1024, 98));
  // A sparse 256 MiB file: costs no disk.
  writeFileSync(join(root, 'big.bin'), '');
  truncateSync(join(root, 'big.bin'), 256 * 1024 * 1024);
  const locations = opts.proxyTo
    ? `location / { proxy_pass http://127.0.0.1:${opts.proxyTo}; proxy_http_version 1.1; proxy_set_header Connection ""; }`
    : `location / { root ${root}; }
    location = /auth { default_type text/plain; return 200 "auth=$http_authorization"; }
    location = /redirect { return 302 http://127.0.0.1:${port}/index.html; }
    ${opts.wsPort ? `location /ws { proxy_pass http://127.0.0.1:${opts.wsPort}; proxy_http_version 1.1; proxy_set_header Upgrade $http_upgrade; proxy_set_header Connection "upgrade"; }` : ''}`;
  const conf = `daemon off; master_process off; worker_processes 1; pid ${dir}/nginx.pid; error_log ${dir}/error.log warn;
events { worker_connections 1024; }
http { access_log off; client_body_temp_path ${dir}/body; proxy_temp_path ${dir}/proxy; fastcgi_temp_path ${dir}/fcgi; uwsgi_temp_path ${dir}/uwsgi; scgi_temp_path ${dir}/scgi;
  types { text/html html; application/octet-stream bin; } sendfile on; keepalive_requests 1000000;
  upstream up { server 127.0.0.1:${opts.proxyTo ?? 1}; keepalive 64; }
  server { listen 127.0.0.1:${port}; ${locations.replace(`http://127.0.0.1:${opts.proxyTo}`, 'http://up')} } }`;
  writeFileSync(join(dir, 'nginx.conf'), conf);
  const proc = spawn(hasBinary('nginx') ? 'nginx' : NGINX, ['-c', join(dir, 'nginx.conf'), '-p', dir, '-e', join(dir, 'error.log')], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  proc.stderr?.on('data', (d) => (err += d));
  for (let i = 0; ; i++) {
    const ok = await new Promise<boolean>((r) => {
      const c = connect(port, '127.0.0.1', () => (c.end(), r(true)));
      c.on('error', () => r(false));
    });
    if (ok) break;
    if (i > 100 || proc.exitCode !== null) throw new Error(`nginx did not start: ${err}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    port,
    proc,
    dir,
    async stop() {
      if (proc.exitCode === null) {
        proc.kill('SIGTERM');
        await new Promise((r) => proc.once('exit', r));
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface Gw {
  g: Running;
  s: Services;
  dir: string;
  web: string;
  proxyPort: number;
  host(device: string): string;
  stop(): Promise<void>;
}

/** The gateway; alice in ops (bob approves when `approval`), devices `app` (node) and `static` (nginx), carol without access. */
export async function startGw(o: { approval: boolean; nodePort: number; nginxPort?: number; env?: Record<string, string> }): Promise<Gw> {
  const dir = mkdtempSync(join(tmpdir(), 'gh-http-'));
  const webPort = await freePort();
  const env: Record<string, string> = {
    GATEHOUSE_DATA_DIR: dir,
    GATEHOUSE_SECRET_KEY: 'test-vault-key-0123456789abcdef',
    GATEHOUSE_ADMIN_PASSWORD: PW.admin,
    GATEHOUSE_SSH_PORT: '0',
    GATEHOUSE_WEB_PORT: String(webPort),
    GATEHOUSE_HTTP_PROXY_PORT: '0',
    GATEHOUSE_RDP_PORT: '0',
    GATEHOUSE_POSTGRES_PORT: '0',
    GATEHOUSE_MYSQL_PORT: '0',
    GATEHOUSE_EVENT_POLL_MS: '50',
    GATEHOUSE_SWEEP_MS: '200',
    GATEHOUSE_LOG_LEVEL: process.env.GATEHOUSE_TEST_LOG ?? 'silent',
    ...o.env,
  };
  const g = await start(env);
  const s = g.services;
  const a = ADMIN;
  await s.admin.addUser(a, { username: 'bob', displayName: 'Bob Manager', email: 'bob@example.com', password: PW.bob });
  await s.admin.addUser(a, { username: 'carol', email: 'carol@example.com', password: PW.carol });
  await s.admin.addUser(a, { username: 'alice', displayName: 'Alice', email: 'alice@example.com', password: PW.alice, manager: 'bob' });
  await s.admin.addGroup(a, 'user', 'ops', { managers: ['bob'], requireApproval: o.approval, requireReason: false });
  await s.admin.addMember(a, 'ops', 'alice');
  await s.admin.addGroup(a, 'device', 'web', {});
  await s.admin.addGroup(a, 'device', 'hidden', {});
  await s.admin.addDevice(a, { name: 'app', host: '127.0.0.1', protocols: 'http', group: 'web', ports: { http: o.nodePort } });
  await s.admin.addAccount(a, 'app', 'operator', { password: 'app-Secret-pw' });
  if (o.nginxPort) {
    await s.admin.addDevice(a, { name: 'static', host: '127.0.0.1', protocols: 'http', group: 'web', ports: { http: o.nginxPort } });
    await s.admin.addAccount(a, 'static', 'viewer', { password: 'nginx-Secret-pw' });
  }
  await s.admin.addDevice(a, { name: 'secret', host: '127.0.0.1', protocols: 'http', group: 'hidden', ports: { http: o.nodePort } });
  await s.admin.addAccount(a, 'secret', 'root', { password: 'hidden-pw' });
  await s.admin.grantAccess(a, 'ops', 'web', 'http');
  const proxyPort = g.httpProxyPort!;
  let stopped = false;
  return {
    g,
    s,
    dir,
    web: `http://127.0.0.1:${webPort}`,
    proxyPort,
    host: (d) => `${d}.localhost:${proxyPort}`,
    async stop() {
      if (stopped) return;
      stopped = true;
      await g.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface Res {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** One request to 127.0.0.1:port with the given Host header. */
export function get(
  port: number,
  host: string,
  path: string,
  o: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<Res> {
  return new Promise((resolve, reject) => {
    const r = request(
      { host: '127.0.0.1', port, path, method: o.method ?? 'GET', headers: { host, ...o.headers }, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }));
        res.on('error', reject);
      },
    );
    r.on('error', reject);
    r.end(o.body);
  });
}

/** Raw bytes on a fresh connection; resolves with what came back until the server closed or 2 s passed. */
export function raw(port: number, data: string): Promise<string> {
  return new Promise((resolve) => {
    const c = connect(port, '127.0.0.1', () => c.write(data));
    let out = '';
    c.on('data', (d) => (out += d));
    const t = setTimeout(() => c.destroy(), 2000);
    c.on('close', () => (clearTimeout(t), resolve(out)));
    c.on('error', () => {});
  });
}

/** Console login through the API, then the hand-off: returns the proxy cookie for `device` ("name=value"). */
export async function proxyCookie(gw: Gw, user: keyof typeof PW, device: string): Promise<string> {
  const consoleCookie = await consoleLogin(gw, user);
  const res = await fetch(`${gw.web}/api/v1/http-proxy/login?host=${device}&return=%2F`, {
    headers: { cookie: consoleCookie.cookie },
    redirect: 'manual',
  });
  if (res.status !== 303) throw new Error(`hand-off answered ${res.status}`);
  const loc = new URL(res.headers.get('location')!);
  const swap = await get(gw.proxyPort, gw.host(device), loc.pathname + loc.search);
  const sc = swap.headers['set-cookie']?.[0];
  if (swap.status !== 303 || !sc) throw new Error(`token swap answered ${swap.status}`);
  return sc.split(';')[0];
}

export async function consoleLogin(gw: Gw, user: keyof typeof PW): Promise<{ cookie: string; csrf: string }> {
  const r = await fetch(`${gw.web}/api/v1/session`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: user, password: PW[user] }),
  });
  const body = (await r.json()) as { csrfToken: string };
  return { cookie: r.headers.get('set-cookie')!.split(';')[0], csrf: body.csrfToken };
}

/** The manager's API call, as the console would make it. */
export async function api(gw: Gw, who: { cookie: string; csrf: string }, method: string, path: string, body?: unknown) {
  const r = await fetch(`${gw.web}/api/v1${path}`, {
    method,
    headers: { cookie: who.cookie, 'x-csrf-token': who.csrf, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: r.status, body: (await r.json().catch(() => null)) as Record<string, unknown> | null };
}
