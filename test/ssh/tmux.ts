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

  /** True once the pane's process has exited; its status, when known. */
  dead(): { dead: boolean; status: number | null } {
    const out = this.tm(['display-message', '-p', '-t', 't', '#{pane_dead} #{pane_dead_status}']).trim().split(' ');
    return { dead: out[0] === '1', status: out[1] ? Number(out[1]) : null };
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

  async waitDead(ms = 15_000): Promise<number | null> {
    const until = Date.now() + ms;
    let deadAt = 0;
    for (;;) {
      const d = this.dead();
      // tmux marks the pane dead when its terminal closes, and fills in the exit status only once it has
      // reaped the process (pane_dead_status stays empty in between): give it up to 2 s more.
      if (d.dead && !deadAt) deadAt = Date.now();
      if (d.dead && (d.status !== null || Date.now() - deadAt > 2000)) return d.status;
      if (Date.now() > until) throw new Error(`the client did not exit:\n${this.screen()}`);
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
