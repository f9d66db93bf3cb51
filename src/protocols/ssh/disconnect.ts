// Ending a connection during login with words the user sees. OpenSSH prints the description of a
// DISCONNECT message even in batch mode with LogLevel=ERROR ("Received disconnect from …: <text>"),
// which makes it the one place to explain a refusal before a session exists (login limit, outage).
// ssh2 only sends an empty description, so the packet is built here with its packet writer.
import { createRequire } from 'node:module';
import type { Connection } from 'ssh2';

const require = createRequire(import.meta.url);

interface PacketWriter {
  allocStartKEX: number;
  alloc(size: number, force: boolean): Buffer;
  finalize(packet: Buffer, force: boolean): Buffer;
}
interface ProtocolInternals {
  _packetRW?: { write?: PacketWriter };
}

let sendPacket: ((proto: unknown, packet: Buffer, bypass: boolean) => void) | null = null;
try {
  sendPacket = (require('ssh2/lib/protocol/utils.js') as { sendPacket?: typeof sendPacket }).sendPacket ?? null;
} catch {
  sendPacket = null;
}

const DISCONNECT = 1;
export const BY_APPLICATION = 11;
export const SERVICE_NOT_AVAILABLE = 7;

/** Sends DISCONNECT with `text` and ends the connection; plain end() if ssh2's internals ever change. */
export function disconnectWithMessage(conn: Connection, text: string, reason = BY_APPLICATION): void {
  const proto = (conn as unknown as { _protocol?: ProtocolInternals })._protocol;
  const w = proto?._packetRW?.write;
  if (sendPacket && w && typeof w.alloc === 'function' && typeof w.finalize === 'function') {
    try {
      const desc = Buffer.from(text.replace(/[\u0000-\u001f\u007f]/g, ' ').slice(0, 400), 'utf8');
      let p = w.allocStartKEX;
      const packet = w.alloc(1 + 4 + 4 + desc.length + 4, true);
      packet[p] = DISCONNECT;
      packet.writeUInt32BE(reason, ++p);
      packet.writeUInt32BE(desc.length, (p += 4));
      desc.copy(packet, (p += 4));
      packet.writeUInt32BE(0, p + desc.length); // language tag: empty
      sendPacket(proto, w.finalize(packet, true), true);
    } catch {
      // fall through to a plain end
    }
  }
  const sock = (conn as unknown as { _sock?: { end(): void; writable?: boolean } })._sock;
  if (sock?.writable) sock.end();
  else conn.end();
}
