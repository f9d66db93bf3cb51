// A Gatehouse on a known port (the redirect URI must be exact) with the test OpenID Provider configured.
import { startServer, type Server } from '../../bench/lib/api.js';
import { freePort } from '../../bench/lib/net.js';
import { flow, startOidc, type Callback, type OidcPeer, type TestUser } from '../../bench/lib/oidc.js';
import { ssoOf } from '../../src/sso/index.js';
import type { SsoPatch } from '../../src/sso/service.js';

export const ADMIN = { username: 'admin', id: null, channel: 'cli' as const };

export const USERS: Record<string, TestUser> = {
  alice: { password: 'provider-pw', claims: { preferred_username: 'alice', name: 'Alice Example', email: 'alice@example.com' } },
  bob: { password: 'provider-pw', claims: { preferred_username: 'bob' } },
  newbie: {
    password: 'provider-pw',
    claims: {
      preferred_username: 'newbie',
      name: 'New Person',
      email: 'newbie@example.com',
      groups: ['ops', 'unknown-group'],
      manager: 'bob',
    },
  },
};

export interface SsoRig {
  srv: Server;
  idp: OidcPeer;
  loginUrl(ret?: string): string;
  /** Signs in at the provider and returns the callback URL, not yet visited. */
  callbackFor(user: string, ret?: string): Promise<Callback>;
  stop(): Promise<void>;
}

export async function startSso(
  dialect: 'sqlite' | 'postgres' = 'sqlite',
  patch: SsoPatch = {},
  extra: Record<string, string> = {},
  srvIn?: Server,
): Promise<SsoRig> {
  let srv = srvIn;
  if (!srv) {
    const port = await freePort();
    srv = await startServer(dialect, { GATEHOUSE_WEB_PORT: String(port), GATEHOUSE_PUBLIC_URL: `http://127.0.0.1:${port}`, ...extra });
  }
  const idp = await startOidc(`${srv.base}/api/v1/sso/callback`, USERS);
  await ssoOf(srv.running.services).configure(
    ADMIN,
    { issuer: idp.issuer, clientId: idp.clientId, name: 'Test IdP', scopes: 'openid profile email groups manager', ...patch },
    idp.clientSecret,
  );
  const s = srv;
  const loginUrl = (ret = '/') => `${s.base}/api/v1/sso/login?return=${encodeURIComponent(ret)}`;
  return {
    srv,
    idp,
    loginUrl,
    callbackFor: (user, ret) => flow(loginUrl(ret), user, USERS[user]?.password ?? 'x'),
    async stop() {
      await idp.stop();
      if (!srvIn) await s.stop();
    },
  };
}

/**
 * GET without following redirects: status, Location, the session cookie if one was set, and the body. A
 * Callback is visited with the cookies its login set (the same browser); a plain URL with `cookie` only.
 */
export async function visit(to: string | Callback, cookie?: string) {
  const url = typeof to === 'string' ? to : to.url;
  const sent = [typeof to === 'string' ? '' : to.cookie, cookie ?? ''].filter(Boolean).join('; ');
  const res = await fetch(url, { redirect: 'manual', headers: sent ? { cookie: sent } : {} });
  const set = res.headers.getSetCookie().find((c) => c.startsWith('gh_session=') && !c.startsWith('gh_session=;'));
  return { status: res.status, location: res.headers.get('location'), cookie: set?.split(';')[0] ?? null, text: await res.text() };
}
