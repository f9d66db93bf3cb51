// The gateway's connection to the device: the account's vaulted secret, and the device's host key
// checked against the pinned one. The first connection pins it (audited); a mismatch refuses.
import { connect as netConnect } from 'node:net';
import ssh2, { type Client as SshClient } from 'ssh2';
import { fingerprintOf } from '../../crypto/sshkeys.js';
import { tuneSocket } from './socket.js';
import type { Actor } from '../../core/admin/service.js';
import type { Account, Device, User } from '../../core/types.js';
import type { Services } from '../../services.js';

const { Client, utils } = ssh2;

export const UPSTREAM_READY_TIMEOUT_MS = 10_000;

export class UpstreamError extends Error {}

function keyLine(blob: Buffer): string | null {
  const k = utils.parseKey(blob);
  if (k instanceof Error || Array.isArray(k)) return null;
  return `${k.type} ${blob.toString('base64')}`;
}

function fingerprintOfLine(line: string): string {
  const b64 = line.split(' ')[1] ?? '';
  return fingerprintOf(Buffer.from(b64, 'base64'));
}

const SYSTEM: Actor = { username: 'system', id: null, channel: 'ssh' };

/** Connects and logs in to the device; resolves when the upstream is ready for channels. */
export async function connectUpstream(s: Services, device: Device, account: Account, user: User, port: number): Promise<SshClient> {
  const secret = await s.admin.accountSecret(account.id);
  let pinned = device.hostKey;
  let seen: string | null = null;
  let mismatch = false;
  let pinFailed = false;

  const conn = new Client();
  // ssh2 may emit more than one error (a timeout, then the socket's end): none may go unhandled.
  conn.on('error', (err) => s.log.debug({ err: String(err), device: device.name }, 'upstream connection error'));
  // No Nagle (it halves set-up time and removes stalls), and packets batched per event-loop turn.
  const sock = tuneSocket(netConnect({ host: device.host, port }));

  await new Promise<void>((resolve, reject) => {
    const fail = (err: Error & { level?: string; code?: string }) => {
      conn.removeListener('ready', ok);
      sock.destroy();
      reject(new UpstreamError(upstreamMessage(err, device, account, port, mismatch ? 'mismatch' : pinFailed ? 'unpinned' : null)));
    };
    const ok = () => {
      conn.removeListener('error', fail);
      resolve();
    };
    conn.once('ready', ok).once('error', fail);
    conn.connect({
      sock,
      username: account.name,
      ...(secret.kind === 'password' ? { password: secret.secret, tryKeyboard: false } : { privateKey: secret.secret }),
      readyTimeout: UPSTREAM_READY_TIMEOUT_MS,
      keepaliveInterval: 15_000,
      keepaliveCountMax: 4,
      // Before the credential is sent: the key must be the pinned one, or become it by a conditional pin
      // (two first connections racing, one of them intercepted, cannot both pin their key).
      hostVerifier: (key: Buffer, verify: (ok: boolean) => void) => {
        seen = keyLine(key);
        if (!seen) return verify(false);
        const offered = seen;
        const against = (now: string | null) => {
          pinned = now;
          mismatch = now !== null && now !== offered;
          verify(now === offered);
        };
        if (pinned !== null) return against(pinned);
        s.admin.pinHostKey(SYSTEM, device, offered).then(against, (err) => {
          s.log.warn({ err: String(err), device: device.name }, 'could not pin the device host key: connection refused');
          pinFailed = true;
          verify(false);
        });
      },
    });
  }).catch(async (err) => {
    if (mismatch && seen) {
      await s.audit({
        actor: user.username,
        actorId: user.id,
        channel: 'ssh',
        action: 'device.host-key-mismatch',
        targetType: 'device',
        targetId: device.id,
        details: { device: device.name, expected: fingerprintOfLine(pinned!), got: fingerprintOfLine(seen) },
      });
      s.log.warn(
        { device: device.name, expected: fingerprintOfLine(pinned!), got: fingerprintOfLine(seen) },
        'device host key mismatch: connection refused',
      );
    }
    throw err;
  });

  return conn;
}

function upstreamMessage(
  err: Error & { level?: string; code?: string },
  device: Device,
  account: Account,
  port: number,
  hostKey: 'mismatch' | 'unpinned' | null,
): string {
  const where = `${device.name} (${device.host}:${port})`;
  if (hostKey === 'unpinned')
    return `Gatehouse could not record the host key of ${device.name} (its database is unavailable or failing), so it did not log in. Try again in a minute; if it lasts, tell an administrator.`;
  if (hostKey === 'mismatch')
    return `The host key of ${device.name} does not match the one Gatehouse pinned: the device was replaced or someone is intercepting the connection. Refusing to connect. An administrator can check the device and run 'gatehouse device set ${device.name} --clear-host-key'.`;
  switch (err.code) {
    case 'ECONNREFUSED':
      return `${where} refused the connection: its SSH server is not running. Try again later or tell an administrator.`;
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return `${where} cannot be reached from the gateway (${err.code}).`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `The host name of ${device.name} (${device.host}) cannot be resolved.`;
    case 'ECONNRESET':
      return `${where} closed the connection during the handshake.`;
  }
  if (err.level === 'client-timeout')
    return `${where} did not answer within ${UPSTREAM_READY_TIMEOUT_MS / 1000} s. Try again later or tell an administrator.`;
  if (err.level === 'client-authentication')
    return `${device.name} refused Gatehouse's login as ${account.name}: the vaulted credential is wrong or was changed. Tell an administrator.`;
  return `Cannot connect to ${where}: ${err.message}.`;
}
