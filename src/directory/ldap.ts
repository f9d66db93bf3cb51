// Talking to the directory with ldapts: connect (ldap, ldaps or StartTLS with a CA), read users and
// groups with paged searches, and bind as a user to check a password. No caching of any password.
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import type { ConnectionOptions } from 'node:tls';
import { Client, InvalidCredentialsError, type Entry } from 'ldapts';
import { GatehouseError } from '../core/errors.js';
import type { DirectorySettings } from './config.js';

/** AD's LDAP_MATCHING_RULE_IN_CHAIN: transitive membership in one search. */
export const IN_CHAIN_OID = '1.2.840.113556.1.4.1941';

export interface RawDirectory {
  users: Entry[];
  groups: Entry[];
  /** inChain only: group DN → DNs of users that are members at any depth, as the server says. */
  chainMembers?: Map<string, string[]>;
}

function tlsOptions(s: DirectorySettings): ConnectionOptions {
  const o: ConnectionOptions = { minVersion: 'TLSv1.2' };
  if (s.caFile) {
    try {
      o.ca = readFileSync(s.caFile, 'utf8');
    } catch {
      throw new GatehouseError('invalid', `cannot read the directory CA file '${s.caFile}'`, 'caFile');
    }
  }
  // SNI and the name checked against the certificate: the URL's host (an IP address is checked as such).
  const host = new URL(s.url).hostname.replace(/^\[|\]$/g, '');
  if (!isIP(host)) o.servername = host;
  return o;
}

/** RFC 4515 escaping of a value inside a filter. */
export function escapeFilter(v: string): string {
  return v.replace(/[\\*()\0]/g, (c) => '\\' + c.charCodeAt(0).toString(16).padStart(2, '0'));
}

async function connect(s: DirectorySettings): Promise<Client> {
  const tls = tlsOptions(s);
  const client = new Client({
    url: s.url,
    timeout: s.timeoutSeconds * 1000,
    connectTimeout: s.timeoutSeconds * 1000,
    tlsOptions: s.url.toLowerCase().startsWith('ldaps:') ? tls : undefined,
    strictDN: false,
  });
  if (s.startTls) await client.startTLS(tls);
  return client;
}

/** A message for people that names what failed, never a password. */
function unavailable(what: string, err: unknown): GatehouseError {
  const e = err as { code?: number; message?: string };
  const msg =
    err instanceof InvalidCredentialsError
      ? 'invalid credentials for the bind DN'
      : e?.code === 4
        ? "the server's size limit was reached: allow the bind DN more entries (OpenLDAP: limits ... size=unlimited) or narrow the filter"
        : String(e?.message ?? err)
            .trim()
            .slice(0, 200);
  return new GatehouseError('unavailable', `directory ${what} failed: ${msg}`);
}

/** Binds with the service account and reads every user and group under the configured bases. */
export async function readDirectory(s: DirectorySettings, bindPassword: string): Promise<RawDirectory> {
  let client: Client;
  try {
    client = await connect(s);
  } catch (err) {
    throw unavailable('connection', err);
  }
  try {
    try {
      await client.bind(s.bindDn, bindPassword);
    } catch (err) {
      throw unavailable('bind', err);
    }
    const a = s.attributes;
    const userAttrs = [a.username, a.email, a.displayName, a.manager, ...(s.membership === 'memberOf' ? [a.memberOf] : [])];
    const groupAttrs = [a.groupName, a.member, a.groupOwner, ...(s.membership === 'memberOf' ? [a.memberOf] : [])];
    const search = async (base: string, filter: string, attributes: string[]) => {
      try {
        return (await client.search(base, { scope: 'sub', filter, attributes, paged: { pageSize: 500 } })).searchEntries;
      } catch (err) {
        throw unavailable(`search under '${base}'`, err);
      }
    };
    const users = await search(s.userBase, s.userFilter, userAttrs);
    const groups = await search(s.groupBase, s.groupFilter, groupAttrs);
    let chainMembers: Map<string, string[]> | undefined;
    if (s.inChain) {
      chainMembers = new Map();
      for (const g of groups) {
        const f = `(&${s.userFilter}(${a.memberOf}:${IN_CHAIN_OID}:=${escapeFilter(g.dn)}))`;
        chainMembers.set(
          g.dn,
          (await search(s.userBase, f, ['dn'])).map((e) => e.dn),
        );
      }
    }
    return { users, groups, chainMembers };
  } finally {
    await client.unbind().catch(() => {});
  }
}

/** Checks a password with a bind as the user: the directory decides, including lockouts. */
export async function bindAsUser(s: DirectorySettings, dn: string, password: string): Promise<'ok' | 'invalid' | 'unavailable'> {
  // An empty password would be an unauthenticated bind, which servers accept: never a login.
  if (!password || !dn) return 'invalid';
  let client: Client | null = null;
  try {
    client = await connect(s);
    await client.bind(dn, password);
    return 'ok';
  } catch (err) {
    return err instanceof InvalidCredentialsError || (err as { code?: number })?.code === 49 ? 'invalid' : 'unavailable';
  } finally {
    await client?.unbind().catch(() => {});
  }
}

/** The service account can bind and the bases can be read: for `directory set --test` and `show`. */
export async function testConnection(s: DirectorySettings, bindPassword: string): Promise<{ users: number; groups: number }> {
  const d = await readDirectory(s, bindPassword);
  return { users: d.users.length, groups: d.groups.length };
}
