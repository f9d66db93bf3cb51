// A protocol listener that must not take the others down: a busy or forbidden port leaves that protocol
// off, loudly, while the console and the other listeners start.
import type { Server } from 'node:net';
import type { Services } from '../services.js';

export interface ListenSpec {
  /** The log field and words: `rdp`, `postgres`, `mysql`. */
  name: string;
  port: number;
  /** What the error log says, e.g. 'rdp gateway could not listen (…): RDP is off; set GATEHOUSE_RDP_PORT …'. */
  refused: string;
}

/** Listens on GATEHOUSE_BIND; resolves with the port, or null when the port is busy or not allowed. */
export async function listenOrStayOff(s: Services, server: Server, spec: ListenSpec): Promise<number | null> {
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(spec.port, s.config.bind, () => {
        server.removeListener('error', reject);
        resolve();
      });
    });
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code !== 'EADDRINUSE' && code !== 'EACCES') throw err;
    s.log.error({ [spec.name]: `${s.config.bind}:${spec.port}`, err: String(err) }, spec.refused);
    return null;
  }
  server.on('error', (err) => s.log.warn({ err: String(err) }, `${spec.name} listener error`));
  const addr = server.address();
  return typeof addr === 'object' && addr ? addr.port : spec.port;
}
