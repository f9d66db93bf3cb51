// The client's side of the handshake: SSLRequest (TLS offered, and required unless configured off),
// GSSENCRequest (declined), CancelRequest, the StartupMessage with hard limits, and the password round.
import type { Socket } from 'node:net';
import { TLSSocket, type SecureContext } from 'node:tls';
import { FrameIO } from './io.js';
import {
  authRequest,
  CANCEL_REQUEST,
  cstring,
  errorResponse,
  GSSENC_REQUEST,
  parseStartupParams,
  ProtocolError,
  PROTOCOL_3,
  SSL_REQUEST,
} from './wire.js';

export const STARTUP_MS = 15_000;
export const PASSWORD_MS = 120_000;

export type ClientStart =
  { kind: 'cancel'; pid: number; secret: number } | { kind: 'startup'; io: FrameIO; params: Map<string, string>; tls: boolean };

export const TLS_REQUIRED_TEXT =
  'Gatehouse requires TLS on this port: connect with sslmode=require (psql "host=… sslmode=require …", or PGSSLMODE=require)';

/** Reads the opening packets; null when the client was refused (it has been told why). */
export async function clientStart(sock: Socket, tls: () => SecureContext, tlsRequired: boolean): Promise<ClientStart | null> {
  let io = new FrameIO(sock);
  let encrypted = false;
  for (let round = 0; round < 3; round++) {
    const body = await io.next((r) => r.startup(), STARTUP_MS, 'the startup packet');
    const code = body.readInt32BE(0);
    if (code === SSL_REQUEST && !encrypted) {
      // Bytes sent before the TLS handshake are not allowed (they would bypass TLS: CVE-2021-23214).
      if (io.frames.rest().length) throw new ProtocolError('data after SSLRequest before the TLS handshake');
      const ctx = secureContext(tls);
      // Without a certificate (openssl missing, unreadable files) TLS is declined: the client is then told why.
      if (!ctx) {
        sock.write('N');
        continue;
      }
      io.detach();
      sock.write('S');
      const secure = new TLSSocket(sock, { isServer: true, secureContext: ctx });
      io = new FrameIO(secure);
      encrypted = true;
    } else if (code === GSSENC_REQUEST && !encrypted) {
      sock.write('N');
    } else if (code === CANCEL_REQUEST && body.length === 12) {
      return { kind: 'cancel', pid: body.readInt32BE(4), secret: body.readInt32BE(8) };
    } else if (code === PROTOCOL_3) {
      const params = parseStartupParams(body);
      if (!encrypted && tlsRequired) {
        io.sock.end(errorResponse('28000', TLS_REQUIRED_TEXT));
        return null;
      }
      if (params.has('replication')) {
        io.sock.end(errorResponse('28000', 'Gatehouse does not relay replication connections'));
        return null;
      }
      return { kind: 'startup', io, params, tls: encrypted };
    } else {
      io.sock.end(errorResponse('08P01', `unsupported frontend protocol ${code >>> 16}.${code & 0xffff}: Gatehouse speaks 3.0`));
      return null;
    }
  }
  throw new ProtocolError('too many negotiation packets');
}

function secureContext(tls: () => SecureContext): SecureContext | null {
  try {
    return tls();
  } catch {
    return null;
  }
}

/** Asks for a password in cleartext (safe: over TLS, or the operator allowed plain text). */
export async function askPassword(io: FrameIO): Promise<string> {
  io.sock.write(authRequest(3));
  const m = await io.next((r) => r.message(4096), PASSWORD_MS, 'the password');
  if (m.type !== 'p') throw new ProtocolError(`expected a password message, got '${m.type}'`);
  return cstring(m.body, 0).value;
}

/** `-c gatehouse.reason=…` in the startup options: the reason for the request (libpq escapes spaces with \). */
export function takeReason(params: Map<string, string>): string | null {
  const opts = params.get('options');
  if (!opts) return null;
  const re = /(?:^|\s)(?:-c\s*|--)gatehouse\.reason=((?:\\.|[^\s\\])*)/;
  const m = re.exec(opts);
  if (!m) return null;
  const rest = opts.replace(re, '').trim();
  if (rest) params.set('options', rest);
  else params.delete('options');
  return m[1].replace(/\\(.)/g, '$1').slice(0, 1000);
}
