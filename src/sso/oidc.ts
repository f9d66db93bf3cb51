// The OpenID Connect client (openid-client v6): discovery, the authorization URL (code flow with PKCE,
// state and nonce), and the code exchange with the ID token checks (signature, issuer, audience, expiry,
// nonce; 60 s of clock skew). Discovery is cached for a few minutes per stored configuration.
import { readFileSync } from 'node:fs';
import * as client from 'openid-client';
import { Agent, fetch as undiciFetch } from 'undici';
import { GatehouseError } from '../core/errors.js';
import type { SsoSettings } from './config.js';

export const CLOCK_TOLERANCE_S = 60;
const DISCOVERY_TTL_MS = 5 * 60_000;

export interface Provider {
  config: client.Configuration;
  settings: SsoSettings;
}

export interface Transaction {
  state: string;
  nonce: string;
  verifier: string;
}

/** Claims of a verified ID token (plus userinfo when the token lacks the username claim). */
export type Claims = Record<string, unknown> & { sub: string; iss: string };

const loopback = (u: URL) => ['127.0.0.1', 'localhost', '[::1]'].includes(u.hostname);

/** A fetch that trusts the configured CA file; undefined means Node's default trust. */
function fetchWith(caFile: string | null): client.CustomFetch | undefined {
  if (!caFile) return undefined;
  let ca: string;
  try {
    ca = readFileSync(caFile, 'utf8');
  } catch (err) {
    throw new GatehouseError('invalid', `cannot read the CA file ${caFile}: ${(err as Error).message}`, 'caFile');
  }
  const dispatcher = new Agent({ connect: { ca } });
  return ((url: string, options: client.CustomFetchOptions) =>
    undiciFetch(url, { ...(options as object), dispatcher } as Parameters<typeof undiciFetch>[1])) as unknown as client.CustomFetch;
}

/** Why the provider failed, in words for the page and the log (never a secret: only the error's own text). */
export function providerError(err: unknown): string {
  type E = { message?: string; code?: string; error?: string; cause?: E };
  const e = err as E;
  // openid-client wraps the check that failed (its cause says which claim); a network error's cause has the errno.
  const inner = e.cause?.message && e.cause.message !== e.message ? e.cause.message : (e.cause?.code ?? undefined);
  const parts = [e.error, e.message, inner].filter((x): x is string => typeof x === 'string' && x !== '');
  return [...new Set(parts)].join(': ').slice(0, 300) || 'unknown error';
}

export class OidcClient {
  private cached: { key: string; at: number; provider: Provider } | null = null;

  constructor(private readonly now: () => number) {}

  /** Discovers the provider (cached for `DISCOVERY_TTL_MS` per settings and secret). */
  async provider(settings: SsoSettings, secret: string, key: string): Promise<Provider> {
    if (this.cached && this.cached.key === key && this.now() - this.cached.at < DISCOVERY_TTL_MS) return this.cached.provider;
    const issuer = new URL(settings.issuer);
    const customFetch = fetchWith(settings.caFile);
    let config: client.Configuration;
    try {
      config = await client.discovery(
        issuer,
        settings.clientId,
        { client_secret: secret, [client.clockTolerance]: CLOCK_TOLERANCE_S },
        client.ClientSecretBasic(secret),
        {
          timeout: settings.timeoutSeconds,
          ...(customFetch ? { [client.customFetch]: customFetch } : {}),
          // Plain HTTP only to a provider on this machine (tests, a local proxy); anything else must be https.
          ...(issuer.protocol === 'http:' && loopback(issuer) ? { execute: [client.allowInsecureRequests] } : {}),
        },
      );
    } catch (err) {
      throw new GatehouseError('unavailable', `the identity provider at ${settings.issuer} could not be discovered: ${providerError(err)}`);
    }
    config.timeout = settings.timeoutSeconds;
    const provider = { config, settings };
    this.cached = { key, at: this.now(), provider };
    return provider;
  }

  forget(): void {
    this.cached = null;
  }

  async begin(p: Provider, redirectUri: string): Promise<{ url: URL; tx: Transaction }> {
    const verifier = client.randomPKCECodeVerifier();
    const tx = { state: client.randomState(), nonce: client.randomNonce(), verifier };
    const url = client.buildAuthorizationUrl(p.config, {
      redirect_uri: redirectUri,
      scope: p.settings.scopes,
      response_type: 'code',
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state: tx.state,
      nonce: tx.nonce,
    });
    return { url, tx };
  }

  /** Exchanges the code; throws 'forbidden' for a response that fails a check, 'unavailable' when the provider fails. */
  async finish(p: Provider, callbackUrl: URL, tx: Transaction): Promise<Claims> {
    let tokens: Awaited<ReturnType<typeof client.authorizationCodeGrant>>;
    try {
      tokens = await client.authorizationCodeGrant(p.config, callbackUrl, {
        pkceCodeVerifier: tx.verifier,
        expectedState: tx.state,
        expectedNonce: tx.nonce,
        idTokenExpected: true,
      });
    } catch (err) {
      const transport =
        err instanceof TypeError || (err as { name?: string }).name === 'AbortError' || /fetch failed|timed? ?out/i.test(String(err));
      throw new GatehouseError(
        transport ? 'unavailable' : 'forbidden',
        transport ? `the identity provider could not be reached: ${providerError(err)}` : `the sign-in was refused: ${providerError(err)}`,
      );
    }
    const claims = tokens.claims();
    if (!claims) throw new GatehouseError('forbidden', 'the sign-in was refused: the provider sent no ID token');
    let all: Record<string, unknown> = { ...claims };
    // Some providers put profile claims only in userinfo; the ID token's subject must match it.
    if (p.settings.usernameClaim !== 'sub' && all[p.settings.usernameClaim] === undefined && tokens.access_token) {
      try {
        all = { ...(await client.fetchUserInfo(p.config, tokens.access_token, claims.sub)), ...claims };
      } catch (err) {
        throw new GatehouseError('unavailable', `the identity provider's userinfo failed: ${providerError(err)}`);
      }
    }
    return all as Claims;
  }
}
