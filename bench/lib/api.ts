/* eslint-disable @typescript-eslint/no-explicit-any -- JSON bodies in tests */
// A real Gatehouse (start(env) from src/main.ts) on a temp data dir, and HTTP clients that log in as
// a console user (cookie + CSRF) or use a Bearer API token.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { start, type Running } from '../../src/main.js';
import { freshPgDatabase } from './db.js';
import { seedOrg } from './services.js';

export const PW = 'S3cret-pass';

export interface Server {
  running: Running;
  base: string;
  env: Record<string, string>;
  stop(): Promise<void>;
}

export async function startServer(
  dialect: 'sqlite' | 'postgres' = 'sqlite',
  extra: Record<string, string> = {},
  opts: { seed?: boolean } = {},
): Promise<Server> {
  const dir = mkdtempSync(join(tmpdir(), 'gh-api-'));
  const pg = dialect === 'postgres' ? await freshPgDatabase() : null;
  const env: Record<string, string> = {
    GATEHOUSE_DATA_DIR: dir,
    GATEHOUSE_WEB_PORT: '0',
    GATEHOUSE_SSH_PORT: '0',
    GATEHOUSE_RDP_PORT: '0',
    GATEHOUSE_POSTGRES_PORT: '0',
    GATEHOUSE_MYSQL_PORT: '0',
    GATEHOUSE_HTTP_PROXY_PORT: '0',
    GATEHOUSE_ADMIN_PASSWORD: PW,
    GATEHOUSE_EVENT_POLL_MS: '50',
    GATEHOUSE_LOG_LEVEL: 'silent',
    GATEHOUSE_SECRET_KEY: 'test-vault-key-0123456789abcdef',
    ...(pg ? { DATABASE_URL: pg.url } : {}),
    ...extra,
  };
  const running = await start(env);
  if (opts.seed !== false) await seedOrg(running.services);
  return {
    running,
    base: `http://127.0.0.1:${running.webPort}`,
    env,
    async stop() {
      await running.stop().catch(() => {});
      await pg?.drop().catch(() => {});
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface Res<T = any> {
  status: number;
  body: T;
  text: string;
  headers: Headers;
}

export class Client {
  cookie: string | null = null;
  csrf: string | null = null;
  token: string | null = null;
  constructor(readonly base: string) {}

  async req<T = any>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Res<T>> {
    const h: Record<string, string> = { ...headers };
    if (body !== undefined) h['content-type'] = 'application/json';
    if (this.cookie) h.cookie = this.cookie;
    if (this.csrf && method !== 'GET' && !('x-csrf-token' in headers)) h['x-csrf-token'] = this.csrf;
    if (this.token) h.authorization = `Bearer ${this.token}`;
    const res = await fetch(this.base + path, { method, headers: h, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await res.text();
    let parsed: unknown = null;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      parsed = null;
    }
    return { status: res.status, body: parsed as T, text, headers: res.headers };
  }
  get<T = any>(p: string) {
    return this.req<T>('GET', p);
  }
  post<T = any>(p: string, b: unknown = {}) {
    return this.req<T>('POST', p, b);
  }
  patch<T = any>(p: string, b: unknown) {
    return this.req<T>('PATCH', p, b);
  }
  put<T = any>(p: string, b: unknown) {
    return this.req<T>('PUT', p, b);
  }
  del<T = any>(p: string) {
    return this.req<T>('DELETE', p);
  }
}

/** A console session for `username`: the cookie and the CSRF token from the login response. */
export async function login(base: string, username: string, password = PW): Promise<Client> {
  const c = new Client(base);
  const r = await c.post('/api/v1/session', { username, password });
  if (r.status !== 200) throw new Error(`login ${username}: ${r.status} ${r.text}`);
  c.cookie = r.headers.get('set-cookie')!.split(';')[0];
  c.csrf = r.body.csrfToken;
  return c;
}

/** A Bearer-token client for `username` (the token is created through the console session). */
export async function tokenClient(base: string, username: string): Promise<Client> {
  const web = await login(base, username);
  const r = await web.post('/api/v1/tokens', { name: `${username}-script` });
  if (r.status !== 201) throw new Error(`token ${username}: ${r.status} ${r.text}`);
  const c = new Client(base);
  c.token = r.body.token;
  return c;
}

/** Collects SSE events from /api/v1/events until `stop()`. */
export async function sse(c: Client): Promise<{
  events: { event: string; data: any }[];
  stop(): void;
  wait(pred: (e: { event: string; data: any }) => boolean, ms?: number): Promise<{ event: string; data: any }>;
}> {
  const ac = new AbortController();
  const res = await fetch(c.base + '/api/v1/events', {
    headers: { ...(c.cookie ? { cookie: c.cookie } : {}), ...(c.token ? { authorization: `Bearer ${c.token}` } : {}) },
    signal: ac.signal,
  });
  if (res.status !== 200) throw new Error(`events: ${res.status}`);
  const events: { event: string; data: any }[] = [];
  const waiters = new Set<() => void>();
  void (async () => {
    const dec = new TextDecoder();
    let buf = '';
    try {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        buf += dec.decode(chunk, { stream: true });
        let i;
        while ((i = buf.indexOf('\n\n')) >= 0) {
          const block = buf.slice(0, i);
          buf = buf.slice(i + 2);
          const ev = /^event: (.*)$/m.exec(block)?.[1];
          const data = /^data: (.*)$/m.exec(block)?.[1];
          if (ev && data) {
            events.push({ event: ev, data: JSON.parse(data) });
            for (const w of waiters) w();
          }
        }
      }
    } catch {
      // aborted
    }
  })();
  return {
    events,
    stop: () => ac.abort(),
    wait(pred, ms = 5000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const e = events.find(pred);
          if (e) {
            waiters.delete(check);
            clearTimeout(t);
            resolve(e);
          }
        };
        const t = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`no matching event within ${ms} ms; got ${JSON.stringify(events.map((e) => e.data.type))}`));
        }, ms);
        waiters.add(check);
        check();
      });
    },
  };
}
