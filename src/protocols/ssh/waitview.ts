// What a waiting connection shows. With a PTY: one live status line with a countdown, and q or Ctrl-C
// cancels the request. Without one (exec, sftp, scp): a line on stderr, which OpenSSH clients print,
// repeated after 30 s, then ever less often up to every 4 minutes.
import type { ServerChannel } from 'ssh2';
import type { WaitingInfo, WaitView } from './gate.js';
import { peopleLine } from '../../presenters/people.js';

export const STDERR_REPEAT_MS = 30_000;
/**
 * The longest pause between two stderr lines: a long wait does not fill the terminal (and 10,000 waits do
 * not cost the gateway a line each every 30 s), and the connection still carries data more often than
 * common NAT idle timeouts (350 s and up) would drop it.
 */
export const STDERR_REPEAT_MAX_MS = 240_000;

/** When the stderr line is repeated: 30 s, 60 s, 120 s, then every 240 s. */
export function stderrRepeatDelay(repeats: number): number {
  return Math.min(STDERR_REPEAT_MS * 2 ** repeats, STDERR_REPEAT_MAX_MS);
}
/** Keystrokes read while a request waits (only q and Ctrl-C mean something) before the channel is closed. */
export const WAIT_INPUT_BYTES = 256 * 1024;

function clock(t: number): string {
  return new Date(t).toISOString().slice(11, 19) + ' UTC';
}

function remaining(ms: number): string {
  const s = Math.max(0, Math.ceil(ms / 1000));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = String(s % 60).padStart(2, '0');
  return h ? `${h}:${String(m).padStart(2, '0')}:${sec}` : `${m}:${sec}`;
}

function approvers(w: WaitingInfo): string {
  const names = peopleLine(w.approvers);
  return w.levels > 1 ? `${names} (level ${w.level} of ${w.levels})` : names;
}

function intro(w: WaitingInfo, nl: string): string {
  const r = w.request;
  return (
    `Access to ${w.device} as ${w.account} needs approval: ${w.why}.${nl}` +
    `Request #${r.id} ${w.reused ? 'was already waiting; this connection waits for it too' : 'has been sent'}. Approver Manager: ${approvers(w)}.${nl}` +
    (r.expiresAt !== null ? `It expires at ${clock(r.expiresAt)}.${nl}` : '')
  );
}

/** The PTY view: a status line redrawn every second; q, Q, Ctrl-C or Ctrl-D cancel the request. */
export class TerminalWaitView implements WaitView {
  onCancel?: () => void;
  private info: WaitingInfo | null = null;
  private ticker: NodeJS.Timeout | null = null;
  private cancelling = false;
  private received = 0;
  private readonly onData = (d: Buffer) => {
    this.received += d.length;
    if (this.received > WAIT_INPUT_BYTES) {
      // Nobody types this much while waiting: stop reading and close the channel (the request waits on).
      this.ch.removeListener('data', this.onData);
      this.ch.write('\r\n\x1b[2KInput flood while waiting: this connection is closed. Your request keeps waiting.\r\n');
      this.ch.close();
      return;
    }
    if (this.cancelling) return;
    if (d.includes(0x71) || d.includes(0x51) || d.includes(0x03) || d.includes(0x04)) {
      this.cancelling = true;
      this.ch.write('\r\x1b[2KCancelling the request…');
      this.onCancel?.();
    }
  };

  constructor(
    private readonly ch: ServerChannel,
    private readonly now: () => number,
  ) {}

  show(w: WaitingInfo): void {
    const first = this.info === null;
    const levelChanged = !first && this.info!.level !== w.level;
    this.info = w;
    if (first) {
      this.ch.write(`\r\n${intro(w, '\r\n')}`);
      this.ch.on('data', this.onData);
      this.ticker = setInterval(() => this.draw(), 1000);
    } else if (levelChanged) {
      this.ch.write(`\r\x1b[2KLevel ${w.level - 1} of ${w.levels} approved; now waiting for ${approvers(w)}.\r\n`);
    }
    this.draw();
  }

  private draw(): void {
    const w = this.info;
    if (!w || this.cancelling) return;
    const r = w.request;
    const left = r.expiresAt !== null ? `expires in ${remaining(r.expiresAt - this.now())}` : 'does not expire';
    this.ch.write(`\r\x1b[2K[#${r.id}] waiting for ${approvers(w)} - ${left} - press q to cancel`);
  }

  end(): void {
    if (this.ticker) clearInterval(this.ticker);
    this.ticker = null;
    this.ch.removeListener('data', this.onData);
    // Stop the flow until the relay pipes the channel: keystrokes typed now wait for the device.
    this.ch.pause();
    if (this.info) this.ch.write('\r\x1b[2K');
  }
}

/** The view without a PTY: the state on stderr now, and again on the schedule of stderrRepeatDelay. */
export class StderrWaitView implements WaitView {
  onCancel?: () => void;
  private info: WaitingInfo | null = null;
  private timer: NodeJS.Timeout | null = null;
  private repeats = 0;

  constructor(
    private readonly ch: ServerChannel,
    private readonly now: () => number,
  ) {}

  show(w: WaitingInfo): void {
    const first = this.info === null;
    this.info = w;
    if (first) this.ch.stderr.write(`gatehouse: ${intro(w, '\ngatehouse: ')}`.replace(/gatehouse: $/, ''));
    this.line();
    // A new state (the next level) starts the schedule again.
    this.repeats = 0;
    this.schedule();
  }

  private schedule(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.line();
      this.repeats++;
      this.schedule();
    }, stderrRepeatDelay(this.repeats));
  }

  private line(): void {
    const w = this.info;
    if (!w) return;
    const r = w.request;
    const left = r.expiresAt !== null ? `; it expires at ${clock(r.expiresAt)} (in ${remaining(r.expiresAt - this.now())})` : '';
    this.ch.stderr.write(`gatehouse: request #${r.id} is waiting for ${approvers(w)}${left}. Leaving does not cancel it.\n`);
  }

  end(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}
