// SSH/SFTP proxy entry point (issue: SSH and SFTP proxy). Returns null while not implemented.
import type { Services } from '../../services.js';

export interface Listener {
  port: number;
  close(): Promise<void>;
}

export async function startSshProxy(_s: Services): Promise<Listener | null> {
  return null;
}
