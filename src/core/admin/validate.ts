// Input checks for policy administration: names, protocols, e-mail addresses, passwords, hosts, ports, secrets.
import { GatehouseError, invalid } from '../errors.js';
import type { PolicySnapshot } from '../policy/snapshot.js';
import type { KeyTools } from '../ports/crypto.js';
import { isProtocol, type Protocol } from '../types.js';

const NAME = /^[a-z0-9][a-z0-9._-]{0,63}$/i;
const USERNAME = /^[a-z_][a-z0-9._-]{0,63}$/;
const EMAIL = /^[^\s@<>"',;]+@[^\s@<>"',;]+\.[^\s@<>"',;]+$/;

export function checkName(kind: string, v: string): string {
  if (!NAME.test(v))
    throw invalid(`${kind} name '${v.slice(0, 80)}' is not valid: use letters, digits, '.', '_' or '-' (1-64 characters)`, 'name');
  return v;
}

export function checkUsername(username: string): void {
  if (!USERNAME.test(username))
    throw invalid(
      `Username '${username.slice(0, 80)}' is not valid: use lower-case letters, digits, '.', '_' or '-' (1-64), starting with a letter or '_'`,
      'username',
    );
}

export function parseProtocols(list: string | string[]): Protocol[] {
  const items = (Array.isArray(list) ? list : list.split(',')).map((s) => s.trim().toLowerCase()).filter(Boolean);
  if (!items.length) throw invalid('at least one protocol is needed (ssh, sftp, rdp, http, postgres, mysql)', 'protocols');
  for (const p of items)
    if (!isProtocol(p)) throw invalid(`unknown protocol '${p}': use ssh, sftp, rdp, http, postgres or mysql`, 'protocols');
  return [...new Set(items)] as Protocol[];
}

const DEFAULT_PORTS: Record<Protocol, number> = { ssh: 22, sftp: 22, rdp: 3389, http: 80, postgres: 5432, mysql: 3306 };

export function checkEmail(e: string | null | undefined): string | null {
  if (e === undefined || e === null || e === '') return null;
  if (!EMAIL.test(e) || e.length > 320) throw invalid('Email must be an email address', 'email');
  return e;
}

export function checkPassword(pw: string): string {
  if (pw.length < 8) throw invalid('Password needs at least 8 characters', 'password');
  if (pw.length > 1024) throw invalid('Password has at most 1024 characters', 'password');
  return pw;
}

export function checkHost(h: string): string {
  const v = h.trim();
  if (!/^[a-z0-9.:_[\]-]{1,255}$/i.test(v)) throw invalid(`'${h.slice(0, 80)}' is not a host name or address`, 'host');
  return v;
}

/** Ports per protocol: an explicit port for that protocol, then --port, then the device's current one, then the default. */
export function resolvePorts(
  protocols: Protocol[],
  given: Partial<Record<Protocol, number>> = {},
  port?: number,
  current: Partial<Record<Protocol, number>> = {},
): Partial<Record<Protocol, number>> {
  const out: Partial<Record<Protocol, number>> = {};
  for (const pr of protocols) {
    // --port names the SSH port (sftp shares it) or, for a device with one protocol, that protocol's port.
    const fromFlag = port !== undefined && (pr === 'ssh' || pr === 'sftp' || protocols.length === 1) ? port : undefined;
    const v = given[pr] ?? fromFlag ?? current[pr] ?? DEFAULT_PORTS[pr];
    if (!Number.isInteger(v) || v < 1 || v > 65535) throw invalid(`port ${v} for ${pr} is not between 1 and 65535`, 'port');
    out[pr] = v;
  }
  return out;
}

/** An account's secret as given: a private key (checked) or a non-empty password. */
export function accountSecretInput(
  keys: KeyTools,
  secret: { password?: string; privateKey?: string },
): { kind: 'password' | 'key'; plain: string } {
  if (secret.privateKey !== undefined) {
    keys.checkPrivateKey(secret.privateKey);
    return { kind: 'key', plain: secret.privateKey };
  }
  if (secret.password !== undefined && secret.password.length > 0) return { kind: 'password', plain: secret.password };
  throw invalid('an account needs a secret: --password-stdin or --key-file', 'secret');
}

/** The ids of these users, each once; every unknown name is reported at once. */
export function userIdsNamed(p: Pick<PolicySnapshot, 'usersByName'>, usernames: readonly string[]): number[] {
  const unknown = usernames.filter((u) => !p.usersByName.has(u));
  if (unknown.length)
    throw new GatehouseError('not_found', `unknown user${unknown.length > 1 ? 's' : ''} ${unknown.map((u) => `'${u}'`).join(', ')}`);
  return [...new Set(usernames.map((u) => p.usersByName.get(u)!.id))];
}
