// A real OpenID Provider for tests: oidc-provider (certified) in this process on 127.0.0.1, with its own
// RSA key, one confidential client, test users with claims, and a plain login form at /interaction/<uid>.
// `tamper` re-signs the next ID tokens with the provider's own key after changing claims (a wrong
// audience, an expired token), so the relying party sees a validly signed but wrong token.
// flow() walks a login without a browser (cookie jar, form post) and returns the callback URL unvisited.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { SignJWT, decodeJwt, exportJWK, generateKeyPair, importJWK, type JWK } from 'jose';

export interface TestUser {
  password: string;
  /** Claims besides sub (preferred_username, name, email, groups, manager...). */
  claims: Record<string, unknown>;
}

export interface OidcPeer {
  issuer: string;
  port: number;
  clientId: string;
  clientSecret: string;
  users: Map<string, TestUser>;
  /** Changes the claims of every ID token issued while set (null: none). */
  tamper: ((claims: Record<string, unknown>) => Record<string, unknown>) | null;
  /** Registers another client; returns its id and secret. */
  addClient(redirectUri: string): Promise<{ clientId: string; clientSecret: string }>;
  stop(): Promise<void>;
}

// oidc-provider ships no types: the few parts used here, typed by hand.
interface ProviderCtx {
  path: string;
  body?: { id_token?: string } & Record<string, unknown>;
  oidc: {
    client: { clientId: string };
    session: { accountId: string };
    provider: { Grant: new (o: { clientId: string; accountId: string }) => { addOIDCScope(s: string): void; save(): Promise<string> } };
  };
}
type Listener = (req: IncomingMessage, res: ServerResponse) => void;
interface ProviderInstance {
  use(mw: (ctx: ProviderCtx, next: () => Promise<void>) => Promise<void>): void;
  callback(): Listener;
  interactionDetails(req: IncomingMessage, res: ServerResponse): Promise<{ uid: string }>;
  interactionFinished(req: IncomingMessage, res: ServerResponse, result: unknown, opts: unknown): Promise<void>;
}
type ProviderClass = new (issuer: string, config: Record<string, unknown>) => ProviderInstance;

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function loginForm(uid: string, error = ''): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Test provider sign-in</title></head><body><main>
<h1>Test provider</h1>${error ? `<p role="alert">${esc(error)}</p>` : ''}
<form method="post" action="/interaction/${esc(uid)}/login">
<label>Provider username <input name="login" autocomplete="off"></label>
<label>Provider password <input name="password" type="password"></label>
<button type="submit">Sign in at provider</button></form></main></body></html>`;
}

async function readForm(req: import('node:http').IncomingMessage): Promise<URLSearchParams> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

/** Starts the provider. `redirectUri`: the relying party's callback (the first client's only redirect URI). */
export async function startOidc(redirectUri: string, users: Record<string, TestUser>): Promise<OidcPeer> {
  const mod = 'oidc-provider';
  const { default: Provider } = (await import(mod)) as { default: ProviderClass };
  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  const jwk: JWK = { ...(await exportJWK(privateKey)), kid: 'test-key', use: 'sig', alg: 'RS256' };
  const signer = await importJWK(jwk, 'RS256');
  const server: Server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  const issuer = `http://127.0.0.1:${port}`;
  const clients: Record<string, unknown>[] = [];
  const newClient = (uri: string) => {
    const c = {
      client_id: `gatehouse-${randomBytes(4).toString('hex')}`,
      client_secret: randomBytes(24).toString('base64url'),
      redirect_uris: [uri],
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
    };
    clients.push(c);
    return c;
  };
  const first = newClient(redirectUri);
  const peer: OidcPeer = {
    issuer,
    port,
    clientId: first.client_id,
    clientSecret: first.client_secret,
    users: new Map(Object.entries(users)),
    tamper: null,
    addClient: async (uri) => {
      const c = newClient(uri);
      return { clientId: c.client_id, clientSecret: c.client_secret };
    },
    stop: () => new Promise<void>((r) => server.close(() => r())),
  };
  const scopesClaims = ['openid', 'profile', 'email', 'groups', 'manager'];
  const provider = new Provider(issuer, {
    clients,
    jwks: { keys: [jwk] },
    cookies: { keys: [randomBytes(16).toString('hex')] },
    claims: { openid: ['sub'], profile: ['name', 'preferred_username'], email: ['email'], groups: ['groups'], manager: ['manager'] },
    scopes: scopesClaims,
    conformIdTokenClaims: false,
    ttl: { Interaction: 600, Grant: 600, Session: 600, AccessToken: 600, IdToken: 600, AuthorizationCode: 60 },
    features: { devInteractions: { enabled: false } },
    pkce: { required: () => true },
    interactions: { url: (_ctx: unknown, i: { uid: string }) => `/interaction/${i.uid}` },
    // First-party client: no consent screen, every requested scope granted.
    loadExistingGrant: async (ctx: ProviderCtx) => {
      const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client.clientId, accountId: ctx.oidc.session.accountId });
      grant.addOIDCScope(scopesClaims.join(' '));
      await grant.save();
      return grant;
    },
    findAccount: async (_ctx: unknown, id: string) => {
      const u = peer.users.get(id);
      return u ? { accountId: id, claims: async () => ({ sub: id, ...u.claims }) } : undefined;
    },
  });
  provider.use(async (ctx: ProviderCtx, next: () => Promise<void>) => {
    await next();
    if (ctx.path === '/token' && peer.tamper && ctx.body?.id_token) {
      const claims = peer.tamper({ ...decodeJwt(ctx.body.id_token) });
      ctx.body = { ...ctx.body, id_token: await new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid: 'test-key' }).sign(signer) };
    }
  });
  const callback = provider.callback();
  server.on('request', (req, res) => {
    const m = /^\/interaction\/([\w-]+)(\/login)?$/.exec((req.url ?? '').split('?')[0]);
    if (!m) return callback(req, res);
    void (async () => {
      try {
        const details = await provider.interactionDetails(req, res);
        if (req.method === 'GET') return void res.writeHead(200, { 'content-type': 'text/html' }).end(loginForm(details.uid));
        const form = await readForm(req);
        const login = form.get('login') ?? '';
        const u = peer.users.get(login);
        if (!u || u.password !== form.get('password'))
          return void res.writeHead(200, { 'content-type': 'text/html' }).end(loginForm(details.uid, 'wrong provider password'));
        await provider.interactionFinished(req, res, { login: { accountId: login } }, { mergeWithLastSubmission: false });
      } catch (err) {
        res.writeHead(400, { 'content-type': 'text/plain' }).end(String(err));
      }
    })();
  });
  return peer;
}

/** A tiny cookie jar per origin, enough for the provider's session cookies. */
class Jar {
  private readonly m = new Map<string, string>();
  take(res: Response) {
    for (const c of res.headers.getSetCookie()) {
      const [kv] = c.split(';');
      const i = kv.indexOf('=');
      this.m.set(kv.slice(0, i).trim(), kv.slice(i + 1).trim());
    }
  }
  header() {
    return [...this.m].map(([k, v]) => `${k}=${v}`).join('; ');
  }
}

/** The provider's redirect back to the relying party, and the cookies the relying party set on the way out. */
export interface Callback {
  url: string;
  /** `name=value; …` of the relying party's cookies (Gatehouse binds the login to the browser with one). */
  cookie: string;
}

/**
 * Without a browser: GET `loginUrl` (Gatehouse's /api/v1/sso/login…), follow to the provider, sign in as
 * `user`, and return the redirect back to Gatehouse's callback (code and state in it), not yet visited.
 */
export async function flow(loginUrl: string, user: string, password: string): Promise<Callback> {
  const rp = new Jar();
  const jar = new Jar();
  let url = loginUrl;
  for (let i = 0; i < 12; i++) {
    const ours = new URL(url).origin === new URL(loginUrl).origin;
    const res = await fetch(url, { redirect: 'manual', headers: { cookie: (ours ? rp : jar).header() } });
    (ours ? rp : jar).take(res);
    const loc = res.headers.get('location');
    if (loc) {
      const next = new URL(loc, url).href;
      if (next.includes('/api/v1/sso/callback')) return { url: next, cookie: rp.header() };
      url = next;
      continue;
    }
    const html = await res.text();
    const action = /<form method="post" action="([^"]+)"/.exec(html)?.[1];
    if (!action) throw new Error(`flow: no redirect and no login form at ${url} (${res.status}): ${html.slice(0, 200)}`);
    const post = await fetch(new URL(action, url), {
      method: 'POST',
      redirect: 'manual',
      headers: { cookie: jar.header(), 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ login: user, password }).toString(),
    });
    jar.take(post);
    const ploc = post.headers.get('location');
    if (!ploc) throw new Error(`flow: the provider refused the login (${post.status})`);
    url = new URL(ploc, url).href;
  }
  throw new Error('flow: too many redirects');
}
