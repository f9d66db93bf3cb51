// A target carried in a login name (DESIGN.md): `alice@web01`, `alice@root@web01`, or plain `alice`.
// SSH and the database listeners share it. Parsed before anything is looked up; a malformed name is
// reported after login, with the same care as an unknown device.

export interface Target {
  /** The Gatehouse user; null when even that part is unusable. */
  user: string | null;
  device: string | null;
  account: string | null;
  /** Set when the name is malformed: what the user is told after login. */
  error: string | null;
}

const USER = /^[a-z_][a-z0-9._-]{0,63}$/;
const NAME = /^[a-z0-9][a-z0-9._-]{0,63}$/i;
/** Longest name worth parsing: user@account@device with 64-character parts. */
export const MAX_TARGET = 200;

/** Parses `user[@account]@device`; `syntax` is the protocol's own example, shown when the name is malformed. */
export function parseTarget(raw: string, syntax: string): Target {
  if (raw.length > MAX_TARGET) return { user: null, device: null, account: null, error: 'the user name is too long' };
  const parts = raw.split('@');
  const user = USER.test(parts[0]) ? parts[0] : null;
  const bad = (why: string): Target => ({ user, device: null, account: null, error: why });
  if (!user) return bad('the user name is not valid');
  if (parts.length === 1) return { user, device: null, account: null, error: null };
  if (parts.length > 3) return bad(`'${printable(raw)}' has too many '@': ${syntax}`);
  const device = parts[parts.length - 1];
  const account = parts.length === 3 ? parts[1] : null;
  if (!NAME.test(device) || (account !== null && !NAME.test(account))) return bad(`'${printable(raw)}' is not a valid target: ${syntax}`);
  return { user, device, account, error: null };
}

/** Text safe to echo to a terminal: control and bidi characters removed, length bounded. */
export function printable(s: string, max = 120): string {
  const clean = s.replace(/[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g, '');
  return clean.length > max ? `${clean.slice(0, max)}…` : clean;
}
