// A crowd of ssh2 clients in exec mode, each waiting for approval of its own request, spread over
// several 127.0.0.x source addresses (so 10,000 connections never run short of ephemeral ports).
import ssh2 from 'ssh2';

interface Waiter {
  client: ssh2.Client;
  out: string;
  /** Resolves with ms since `t0` when the command's output arrived, or -1 when the session failed. */
  done: Promise<number>;
}

export interface CrowdOpts {
  port: number;
  privateKey: string;
  user: string;
  command: string;
  /** Source addresses 127.0.0.1 .. 127.0.0.<sources>. */
  sources?: number;
}

export class Crowd {
  private readonly byRequest = new Map<number, Waiter>();
  private readonly clients: ssh2.Client[] = [];
  private t0 = 0;
  private shown = 0;

  constructor(private readonly o: CrowdOpts) {}

  waiting(): number {
    return this.shown;
  }

  /** The requests the waiting connections showed (a connection that joined a waiting request shares its id). */
  requestIds(): number[] {
    return [...this.byRequest.keys()].sort((a, b) => a - b);
  }

  /** Resolves once the gateway shows this connection's wait (its request number). */
  connect(device: string, i: number): Promise<void> {
    return new Promise((shown, fail) => {
      const c = new ssh2.Client();
      this.clients.push(c);
      let settle: (ms: number) => void = () => {};
      const w: Waiter = { client: c, out: '', done: new Promise((r) => (settle = r)) };
      let id = 0;
      const seen = () => {
        const m = id ? null : /#(\d+)/.exec(w.out);
        if (m) {
          id = Number(m[1]);
          this.byRequest.set(id, w);
          this.shown++;
          shown();
        }
        if (w.out.includes(this.o.command.replace(/^echo /, ''))) settle(performance.now() - this.t0);
      };
      c.on('error', (e) => (id ? settle(-1) : fail(new Error(`client ${i}: ${e.message}`))));
      c.on('ready', () =>
        c.exec(this.o.command, (err, ch) => {
          if (err) return fail(err);
          ch.on('data', (d: Buffer) => ((w.out += d), seen()));
          ch.stderr.on('data', (d: Buffer) => ((w.out += d), seen()));
          ch.on('close', () => (id ? settle(-1) : fail(new Error(`client ${i} closed before waiting: ${w.out}`))));
        }),
      );
      c.connect({
        host: '127.0.0.1',
        port: this.o.port,
        localAddress: `127.0.0.${1 + (i % (this.o.sources ?? 8))}`,
        username: `${this.o.user}@${device}`,
        privateKey: this.o.privateKey,
        readyTimeout: 120_000,
        keepaliveInterval: 0,
      });
    });
  }

  /** Waits until every connection of `ids` ran its command; ms since `t0` of those that did. */
  async through(ids: number[], timeoutMs: number, t0: number): Promise<{ ok: number[]; failed: number }> {
    this.t0 = t0;
    const deadline = new Promise<number>((r) => setTimeout(() => r(-1), timeoutMs));
    const all = await Promise.all(ids.map((id) => Promise.race([this.byRequest.get(id)!.done, deadline])));
    const ok = all.filter((x) => x >= 0);
    return { ok, failed: all.length - ok.length };
  }

  end(): void {
    for (const c of this.clients) c.end();
  }
}
