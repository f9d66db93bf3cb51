// A real terminal for PTY tests: a private tmux server runs the ssh client in a pane of a known size.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { hasBinary, missing } from '../helpers/peers.js';

/** Skip reason for the terminal tests (CI, with GATEHOUSE_TEST_REQUIRE_PEERS=1, must install tmux). */
export const TMUX_SKIP = missing('tmux', hasBinary('tmux'), 'install tmux');

export class Tmux {
  readonly socket = `gh-test-${randomBytes(4).toString('hex')}`;
  private tm(args: string[]): string {
    return execFileSync('tmux', ['-L', this.socket, '-f', '/dev/null', ...args], { encoding: 'utf8' });
  }

  /** Starts `cmd` (a shell command line) in a detached session of cols x rows; the pane stays after it exits. */
  start(cmd: string, cols = 100, rows = 40, env: Record<string, string> = {}): void {
    const envArgs = Object.entries(env).flatMap(([k, v]) => ['-e', `${k}=${v}`]);
    this.tm(['new-session', '-d', '-s', 't', '-x', String(cols), '-y', String(rows), ...envArgs, cmd]);
    this.tm(['set-option', '-t', 't', 'remain-on-exit', 'on']);
  }

  screen(): string {
    return this.tm(['capture-pane', '-p', '-J', '-S', '-200', '-t', 't']);
  }

  keys(...keys: string[]): void {
    this.tm(['send-keys', '-t', 't', ...keys]);
  }

  type(text: string): void {
    this.tm(['send-keys', '-t', 't', '-l', text]);
  }

  resize(cols: number, rows: number): void {
    this.tm(['resize-window', '-t', 't', '-x', String(cols), '-y', String(rows)]);
  }

  defaultTerm(): string {
    return this.tm(['show-options', '-gv', 'default-terminal']).trim();
  }

  async waitFor(re: RegExp, ms = 15_000): Promise<string> {
    const until = Date.now() + ms;
    for (;;) {
      const s = this.screen();
      if (re.test(s)) return s;
      if (Date.now() > until) throw new Error(`timed out waiting for ${re} on the screen:\n${s}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  kill(): void {
    try {
      this.tm(['kill-server']);
    } catch {
      // already gone
    }
  }
}
