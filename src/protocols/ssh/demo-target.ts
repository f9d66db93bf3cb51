// The built-in demo target for `gatehouse demo` when no local sshd can be used: a tiny SSH server on
// loopback with a restricted demo shell. It runs no real commands; it only shows that the session
// reached a device after approval.
import { createServer, type Server as NetServer } from 'node:net';
import ssh2, { type ServerChannel } from 'ssh2';
import { timingSafeEqual } from 'node:crypto';

const HELP = 'Commands: help, whoami, hostname, date, uptime, ls, cat motd.txt, echo <text>, exit';
const MOTD = 'You reached the device through Gatehouse, after your manager approved the request.';

export interface DemoTarget {
  port: number;
  close(): Promise<void>;
}

function answer(line: string, started: number): string {
  const [cmd, ...rest] = line.trim().split(/\s+/);
  switch (cmd) {
    case '':
      return '';
    case 'help':
      return HELP;
    case 'whoami':
      return 'demo';
    case 'hostname':
      return 'demo-target';
    case 'date':
      return new Date().toString();
    case 'uptime':
      return `up ${Math.round((Date.now() - started) / 1000)} seconds (demo)`;
    case 'ls':
      return 'motd.txt';
    case 'cat':
      return rest[0] === 'motd.txt' ? MOTD : `cat: ${rest[0] ?? ''}: no such file (this is a demo shell)`;
    case 'echo':
      return rest.join(' ');
    default:
      return `${cmd}: not available in the demo shell. ${HELP}`;
  }
}

function shell(ch: ServerChannel, started: number): void {
  const prompt = 'demo@demo-target:~$ ';
  ch.write(`\r\nGatehouse built-in DEMO TARGET - a restricted demo shell, not a real server.\r\n${MOTD}\r\n${HELP}\r\n\r\n${prompt}`);
  let line = '';
  ch.on('data', (d: Buffer) => {
    for (const c of d.toString('utf8')) {
      if (c === '\r' || c === '\n') {
        ch.write('\r\n');
        const cmd = line.trim();
        line = '';
        if (cmd === 'exit' || cmd === 'logout') {
          ch.exit(0);
          ch.end();
          return;
        }
        const out = answer(cmd, started);
        ch.write(out ? `${out}\r\n${prompt}` : prompt);
      } else if (c === '\x7f' || c === '\b') {
        if (line.length) {
          line = line.slice(0, -1);
          ch.write('\b \b');
        }
      } else if (c === '\x03') {
        line = '';
        ch.write(`^C\r\n${prompt}`);
      } else if (c === '\x04' && !line) {
        ch.exit(0);
        ch.end();
        return;
      } else if (c >= ' ') {
        line += c;
        ch.write(c);
      }
    }
  });
}

export async function startDemoTarget(hostKey: Buffer, password: string): Promise<DemoTarget> {
  const started = Date.now();
  const want = Buffer.from(password);
  const server = new ssh2.Server({ hostKeys: [hostKey], ident: 'GatehouseDemoTarget' }, (client) => {
    client.on('error', () => {});
    client.on('authentication', (ctx) => {
      if (ctx.method !== 'password' || ctx.username !== 'demo') return ctx.reject(['password']);
      const got = Buffer.from(ctx.password);
      if (got.length === want.length && timingSafeEqual(got, want)) return ctx.accept();
      ctx.reject(['password']);
    });
    client.on('ready', () =>
      client.on('session', (accept) => {
        const sess = accept();
        sess.on('pty', (ok) => ok?.());
        sess.on('env', (ok) => ok?.());
        sess.on('window-change', (ok) => ok?.());
        sess.on('shell', (ok) => shell(ok(), started));
        sess.on('exec', (ok, _no, info) => {
          const ch = ok();
          ch.write(`${answer(info.command, started)}\n`);
          ch.exit(0);
          ch.end();
        });
      }),
    );
  });
  const tcp: NetServer = createServer((sock) => {
    sock.setNoDelay(true);
    sock.on('error', () => {});
    server.injectSocket(sock);
  });
  await new Promise<void>((resolve) => tcp.listen(0, '127.0.0.1', () => resolve()));
  const port = (tcp.address() as { port: number }).port;
  return { port, close: () => new Promise((resolve) => tcp.close(() => resolve())) };
}
