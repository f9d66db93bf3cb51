// The gateway as a MySQL server, up to the user's password: greeting, TLS (always: the password then
// travels in clear inside it), and the password, through caching_sha2_password's "full
// authentication" (announced in the greeting; MySQL clients and MariaDB Connector/C 3.x send the password
// over TLS without any flag). A client that answers with another plugin is switched to
// caching_sha2_password. One more plugin switch is allowed per login, so further questions (the
// verification code, a reason) go through `dialog`, which MariaDB clients show as prompts.
import { randomBytes } from 'node:crypto';
import type { SecureContext } from 'node:tls';
import { buildAuthSwitch, buildGreeting, clearPassword, parseResponse, type HandshakeResponse } from './handshake.js';
import { CLIENT, ER, errPacket, OFFERED, ProtocolError } from './packets.js';
import { Wire } from './wire.js';

/** Login packets are small; anything larger ends the connection before it is buffered. */
export const MAX_LOGIN_PACKET = 16 * 1024;
export const SERVER_VERSION = '8.0.35-Gatehouse';
/** utf8mb4_general_ci */
const CHARSET = 45;

export const TLS_REQUIRED_MESSAGE =
  'Gatehouse requires TLS for MySQL connections: use --ssl (MariaDB client) or --ssl-mode=REQUIRED (MySQL client)';

export interface ClientLogin {
  wire: Wire;
  response: HandshakeResponse;
  password: string;
  /** The one plugin switch of the login was used (no `dialog` questions are possible any more). */
  switched: boolean;
}

let nextConnectionId = 1;

/** Greets, switches to TLS, and reads the user's name and password. Throws ProtocolError on bad input. */
export async function readLogin(wire: Wire, tls: () => SecureContext, ms: number): Promise<ClientLogin | null> {
  // Printable-safe nonce bytes (no NUL: some clients cut the nonce at one).
  const nonce = Buffer.from(randomBytes(20).map((b) => b & 0x7f || 1));
  nextConnectionId = (nextConnectionId % 0x7fffffff) + 1;
  wire.write(
    buildGreeting({
      version: SERVER_VERSION,
      connectionId: nextConnectionId,
      caps: OFFERED,
      charset: CHARSET,
      nonce,
      plugin: 'caching_sha2_password',
    }),
  );
  let r = parseResponse((await wire.read(ms)).payload);
  if (!(r.caps & CLIENT.SSL)) {
    wire.endWith(errPacket(ER.SECURE_TRANSPORT, TLS_REQUIRED_MESSAGE));
    return null;
  }
  if (!r.sslRequest) throw new ProtocolError('TLS asked for in a full handshake response');
  let context: SecureContext;
  try {
    context = tls();
  } catch {
    // No certificate could be read or made (logged by the listener): decline rather than go plain.
    wire.endWith(errPacket(ER.UNKNOWN, 'Gatehouse cannot offer TLS right now (no certificate): tell an administrator'));
    return null;
  }
  await wire.startServerTls(context, ms);
  r = parseResponse((await wire.read(ms)).payload);
  if (r.sslRequest) throw new ProtocolError('a second SSLRequest');
  if ((r.caps & ~OFFERED & ~CLIENT.SSL) !== 0) r = { ...r, caps: r.caps & (OFFERED | CLIENT.SSL) };
  if (r.plugin !== 'caching_sha2_password') {
    // One switch: to caching_sha2_password with a fresh nonce; the client's proof of it is not needed.
    wire.write(buildAuthSwitch('caching_sha2_password', Buffer.concat([nonce, Buffer.from([0])])));
    await wire.read(ms);
  }
  // "Perform full authentication": the client sends its password, safe inside TLS.
  wire.write(Buffer.from([0x01, 0x04]));
  const password = clearPassword((await wire.read(ms)).payload);
  return { wire, response: r, password, switched: r.plugin !== 'caching_sha2_password' };
}

/** Whether questions can still be asked (no plugin switch used yet). */
export function canAsk(login: ClientLogin): boolean {
  return !login.switched;
}

export interface Question {
  prompt: string;
  /** Not echoed (a password question). */
  secret: boolean;
}

/**
 * Asks `questions` through the `dialog` plugin and returns the answers. All are asked before any is
 * checked: after a question not marked last, the client would take an error packet for one more question.
 */
export async function ask(login: ClientLogin, questions: Question[], ms: number): Promise<string[]> {
  if (!canAsk(login)) throw new ProtocolError('no plugin switch left');
  login.switched = true;
  const answers: string[] = [];
  for (let i = 0; i < questions.length; i++) {
    const q = questions[i]!;
    // Type 2: a question (echoed), 4: a password question; +1 marks the last. The first password-type
    // question would be answered with the command line's password, so the first is never one.
    const type = (q.secret && i > 0 ? 4 : 2) | (i === questions.length - 1 ? 1 : 0);
    const packet = Buffer.concat([Buffer.from([type]), Buffer.from(q.prompt, 'utf8')]);
    login.wire.write(i === 0 ? buildAuthSwitch('dialog', packet) : packet);
    answers.push(clearPassword((await login.wire.read(ms)).payload));
  }
  return answers;
}
