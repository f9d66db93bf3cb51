// `gatehouse demo` (npm run demo): the five-minute path for a newcomer. A demo organisation (alice and
// her manager bob, a group with managerial approval), one device, everything started, and the three
// steps to see an approval. It keeps its own data dir and never touches real data or mail.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir, userInfo } from 'node:os';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import type { Running } from '../../main.js';
import type { Actor } from '../../core/admin/service.js';
import type { DemoTarget } from '../../protocols/ssh/demo-target.js';

interface DemoState {
  alice: string;
  bob: string;
  admin: string;
  /** The device: the local sshd (with a key of yours it accepts) or the built-in demo target. */
  device?: { kind: 'local'; account: string; keyFile: string } | { kind: 'target'; password: string };
}

const ENV_NOT_INHERITED = [
  'DATABASE_URL',
  'GATEHOUSE_SECRET_KEY',
  'GATEHOUSE_ADMIN_PASSWORD',
  'GATEHOUSE_NODE_ID',
  'GATEHOUSE_SMTP_URL',
  'GATEHOUSE_SMTP_IN_PORT',
  'GATEHOUSE_PUBLIC_URL',
];
/**
 * The demo's own ports, next to (not on) a real Gatehouse's 8080/2222/8081/3389: both can run at once, and
 * ssh's known_hosts, which remembers one host key per host and port, never sees two keys on one port.
 */
const DEMO_PORTS = {
  GATEHOUSE_WEB_PORT: '8090',
  GATEHOUSE_SSH_PORT: '2223',
  GATEHOUSE_HTTP_PROXY_PORT: '8091',
  GATEHOUSE_RDP_PORT: '3390',
};
/** Kept by --fresh: a new host key would make ssh refuse the demo ("REMOTE HOST IDENTIFICATION HAS CHANGED"). */
const HOST_KEY_FILES = ['ssh_host_ed25519_key', 'ssh_host_ed25519_key.pub', 'ssh_host_rsa_key', 'ssh_host_rsa_key.pub'];
const pw = () => randomBytes(9).toString('base64url');

/** A key of the current user that the local sshd on 127.0.0.1:22 accepts, if any. */
async function localSshd(): Promise<{ account: string; keyFile: string } | null> {
  const account = userInfo().username;
  const { default: ssh2 } = await import('ssh2');
  for (const name of ['id_ed25519', 'id_ecdsa', 'id_rsa']) {
    const keyFile = join(homedir(), '.ssh', name);
    if (!existsSync(keyFile)) continue;
    const key = readFileSync(keyFile, 'utf8');
    const parsed = ssh2.utils.parseKey(key);
    if (parsed instanceof Error) continue; // encrypted or unreadable: not usable unattended
    const ok = await new Promise<boolean>((done) => {
      const c = new ssh2.Client();
      c.on('ready', () => {
        c.end();
        done(true);
      });
      c.on('error', () => done(false));
      c.connect({ host: '127.0.0.1', port: 22, username: account, privateKey: key, readyTimeout: 3000 });
    });
    if (ok) return { account, keyFile };
  }
  return null;
}

type Services = Running['services'];
interface DemoOptions {
  dir: string;
  fresh?: boolean;
  builtinTarget?: boolean;
}
interface DemoDevice {
  name: string;
  note: string;
  target: DemoTarget | null;
}

/** The demo data dir and its saved passwords (made up on the first run). */
function openDemoDir(o: DemoOptions): { dir: string; state: DemoState; save: () => void } {
  const dir = resolve(o.dir);
  const kept = o.fresh ? HOST_KEY_FILES.filter((f) => existsSync(join(dir, f))).map((f) => [f, readFileSync(join(dir, f))] as const) : [];
  if (o.fresh) rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  for (const [f, data] of kept) writeFileSync(join(dir, f), data, { mode: 0o600 });
  const stateFile = join(dir, 'demo.json');
  const state: DemoState = existsSync(stateFile) ? JSON.parse(readFileSync(stateFile, 'utf8')) : { alice: pw(), bob: pw(), admin: pw() };
  const save = () => writeFileSync(stateFile, JSON.stringify(state, null, 2), { mode: 0o600 });
  save();
  return { dir, state, save };
}

function demoEnv(dir: string, state: DemoState): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const k of ENV_NOT_INHERITED) delete env[k];
  for (const [k, v] of Object.entries(DEMO_PORTS)) env[k] = process.env[k] ?? v;
  Object.assign(env, {
    GATEHOUSE_DATA_DIR: dir,
    GATEHOUSE_ADMIN_PASSWORD: state.admin,
    GATEHOUSE_LOG_LEVEL: process.env.GATEHOUSE_LOG_LEVEL ?? 'warn',
  });
  return env;
}

// The whole server, only for this command.
async function loadServer() {
  const [{ start }, { startDemoTarget }, { generateKey, hostKeyFingerprints }] = await Promise.all([
    import('../../main.js'),
    import('../../protocols/ssh/demo-target.js'),
    import('../../protocols/ssh/hostkeys.js'),
  ]);
  return { start, startDemoTarget, generateKey, hostKeyFingerprints };
}
type Server = Awaited<ReturnType<typeof loadServer>>;

async function startOrExit(start: Server['start'], env: NodeJS.ProcessEnv): Promise<Running> {
  try {
    return await start(env);
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { port?: number };
    process.stderr.write(`gatehouse demo: ${e.message}\n`);
    if (e.code === 'EADDRINUSE')
      process.stderr.write(
        `(is the demo already running? Else pick free ports, e.g. GATEHOUSE_SSH_PORT=2224 GATEHOUSE_WEB_PORT=8092 npm run demo)\n`,
      );
    process.exit(1);
  }
}

/** alice, her manager bob, and a group whose connections need the manager's approval (first run only). */
async function seedOrganisation(s: Services, admin: Actor, state: DemoState): Promise<void> {
  await s.admin.addUser(admin, { username: 'bob', displayName: 'Bob', email: 'bob@example.com', password: state.bob });
  await s.admin.addUser(admin, {
    username: 'alice',
    displayName: 'Alice',
    email: 'alice@example.com',
    password: state.alice,
    manager: 'bob',
  });
  await s.admin.addGroup(admin, 'user', 'demo-team', {
    managers: ['bob'],
    requireApproval: true,
    description: 'demo: connections need the manager’s approval',
  });
  await s.admin.addMember(admin, 'demo-team', 'alice');
  await s.admin.addGroup(admin, 'device', 'demo-devices', { description: 'demo devices' });
  await s.admin.grantAccess(admin, 'demo-team', 'demo-devices', 'ssh,sftp');
}

async function localDevice(s: Services, admin: Actor, device: { account: string; keyFile: string }): Promise<DemoDevice> {
  const name = 'localhost';
  const note = `the local sshd on 127.0.0.1:22, logging in as ${device.account} with your key ${device.keyFile}`;
  if (!(await s.policy.current()).devicesByName.has(name)) {
    await s.admin.addDevice(admin, { name, host: '127.0.0.1', port: 22, protocols: 'ssh,sftp', group: 'demo-devices' });
    await s.admin.addAccount(admin, name, device.account, { privateKey: readFileSync(device.keyFile, 'utf8') });
  }
  return { name, note, target: null };
}

async function builtinTarget(s: Services, admin: Actor, server: Server, dir: string, password: string): Promise<DemoDevice> {
  const name = 'demo-target';
  const known = (await s.policy.current()).devicesByName.has(name);
  const keyFile = join(dir, 'demo_target_host_key');
  if (!existsSync(keyFile)) writeFileSync(keyFile, server.generateKey('ed25519').private, { mode: 0o600 });
  const target = await server.startDemoTarget(readFileSync(keyFile), password);
  const note = `Gatehouse's built-in DEMO TARGET on 127.0.0.1:${target.port} (a restricted demo shell, not a real server: no sshd was usable on 127.0.0.1:22)`;
  if (!known) {
    await s.admin.addDevice(admin, { name, host: '127.0.0.1', port: target.port, protocols: 'ssh', group: 'demo-devices' });
    await s.admin.addAccount(admin, name, 'demo', { password });
  } else await s.admin.setDevice(admin, name, { ports: { ssh: target.port } });
  return { name, note, target };
}

/**
 * How another terminal runs this CLI: the launcher's absolute path when the demo was started through it
 * (`npm run demo`). `npx gatehouse` in a fresh clone first packs the checkout, rebuilding it (minutes).
 */
function launcherCommand(): string {
  const bin = process.argv[1] ?? '';
  return /[\\/]bin[\\/]gatehouse\.js$/.test(bin) && existsSync(bin) ? resolve(bin) : 'npx gatehouse';
}

function instructions(running: Running, dir: string, state: DemoState, device: DemoDevice, fingerprint: string): string {
  const bind = running.services.config.bind;
  const web = `http://${bind === '0.0.0.0' ? '127.0.0.1' : bind}:${running.webPort}/`;
  const cli = `GATEHOUSE_DATA_DIR=${dir} ${launcherCommand()}`;
  return (
    [
      '',
      'Gatehouse demo is running (its own data in ' + dir + '; Ctrl-C stops it).',
      '',
      `  alice  password ${state.alice}   (a member of demo-team; bob must approve her connections)`,
      `  bob    password ${state.bob}   (alice's manager)`,
      `  admin  password ${state.admin}`,
      `  device ${device.name}: ${device.note}`,
      '',
      'See an approval in three steps:',
      '',
      `  1. In another terminal, connect as alice (password above):`,
      `       ssh -p ${running.sshPort} alice@${device.name}@127.0.0.1`,
      `     The first time, ssh asks whether to trust the gateway's host key: check that it shows`,
      `       ${fingerprint}`,
      `     and answer yes (the key stays the same across demo runs, --fresh included).`,
      `     Her connection waits: a status line shows the request number, Bob as the approver,`,
      `     and a countdown; q cancels.`,
      '',
      `  2. Approve as bob: open ${web} and log in as bob (password above), then Approve the request.`,
      `     Or from a terminal:  ${cli} approvals list --as bob`,
      `                          ${cli} approvals approve <number> --as bob --comment 'ok'`,
      '',
      `  3. Within a second alice's shell opens on ${device.name}. For the next hour she connects straight`,
      `     through; "exit" ends the session. Try a rejection too: her terminal shows bob's comment.`,
      '',
    ].join('\n') + '\n'
  );
}

async function runDemo(o: DemoOptions): Promise<void> {
  const { dir, state, save } = openDemoDir(o);
  const server = await loadServer();
  const running = await startOrExit(server.start, demoEnv(dir, state));
  const s = running.services;
  const p0 = await s.policy.current();
  const admin: Actor = { username: 'admin', id: p0.usersByName.get('admin')?.id ?? null, channel: 'cli' };
  if (!p0.usersByName.has('alice')) await seedOrganisation(s, admin, state);

  if (!state.device) {
    const local = o.builtinTarget ? null : await localSshd();
    state.device = local ? { kind: 'local', ...local } : { kind: 'target', password: pw() };
    save();
  }
  const device =
    state.device.kind === 'local'
      ? await localDevice(s, admin, state.device)
      : await builtinTarget(s, admin, server, dir, state.device.password);
  const ed25519 = server.hostKeyFingerprints(dir).find((k) => k.type === 'ED25519');
  process.stdout.write(
    instructions(running, dir, state, device, ed25519 ? `${ed25519.fingerprint} (ED25519)` : 'the fingerprint of the gateway'),
  );

  await new Promise<void>((done) => {
    process.once('SIGINT', done);
    process.once('SIGTERM', done);
  });
  process.stdout.write('\nStopping the demo…\n');
  await running.stop();
  await device.target?.close();
  process.exit(0);
}

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description('the five-minute tour: a demo organisation, one device, and the steps to see an approval (own data dir)')
    .option('--dir <path>', 'the demo data dir (never your real data)', join(tmpdir(), 'gatehouse-demo'))
    .option('--fresh', 'delete the demo data first and start over')
    .option('--builtin-target', 'use the built-in demo target even when the local sshd could be used')
    .action(runDemo);
}
