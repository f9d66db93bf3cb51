// Mail: outbound notifications, inbound replies (issue: Email). Returns null while not implemented.
import type { Services } from '../services.js';

export interface Notifier {
  /** Ports of inbound listeners, when any (SMTP). */
  smtpInPort?: number;
  close(): Promise<void>;
}

export async function startNotify(_s: Services): Promise<Notifier | null> {
  return null;
}
