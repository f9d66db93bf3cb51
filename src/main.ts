// Composition root: config -> storage -> services -> listeners. The only file that knows every protocol.
// `serve` runs them in one process, or (GATEHOUSE_WORKERS > 1) in worker processes under a primary (workers.ts).
import { loadConfig, startEnv, type Config } from './config/env.js';
import { httpProxyConfig } from './config/http.js';
import { makeLogger, type Logger } from './log.js';
import { ensureAdmin, openServices, type Services } from './services.js';
import type { OpenOptions } from './services-core.js';
import { startBackground, type BackgroundRole } from './background.js';
import type { NodeService } from './core/nodes.js';
import { buildWebServer } from './api/server.js';
import { Metrics } from './api/metrics.js';
import { registerApi } from './api/routes/index.js';
import { startSshProxy } from './protocols/ssh/index.js';
import { startHttpProxy } from './protocols/http/index.js';
import { startRdpGateway } from './protocols/rdp/index.js';
import { startPostgresListener } from './protocols/postgres/index.js';
import { startMysqlGateway } from './protocols/mysql/index.js';
import { startNotify } from './notify/index.js';
import { RUNTIME_FLAGS, semiSpaceMb } from './runtime.js';
import { canFork, isWorker, runPrimary, runWorker } from './workers.js';

export interface Running {
  services: Services;
  nodes: NodeService;
  webPort: number;
  /** The SSH proxy's port, when it runs. */
  sshPort?: number;
  httpProxyPort?: number;
  /** The RDP gateway's port. */
  rdpPort?: number;
  /** The PostgreSQL listener's port, when it runs. */
  postgresPort?: number;
  mysqlPort?: number;
  smtpInPort?: number;
  stop(): Promise<void>;
}

/** The config keys of listener ports; a port configured as 0 (any free port) is replaced by the real one. */
export type PortKey = 'webPort' | 'sshPort' | 'httpProxyPort' | 'rdpPort' | 'postgresPort' | 'mysqlPort' | 'smtpInPort';

/** One open listener: its port, and how to close it. */
export interface Opened {
  port?: number;
  close(): Promise<void>;
}

/** A listener of the node: started in this order, stopped in this order (the web server last). */
export interface ListenerSpec {
  name: string;
  port: PortKey;
  /** The variable and words a busy or forbidden port is explained with. */
  envVar?: string;
  what?: string;
  start(s: Services): Promise<Opened | null>;
}

/** Runs one listener's start; a busy or forbidden port becomes a sentence naming the port and its variable. */
async function listenOrExplain<T>(listen: () => Promise<T>, port: number | undefined, envVar: string, what: string): Promise<T> {
  try {
    return await listen();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE')
      throw Object.assign(new Error(`port ${port} is in use — is another Gatehouse running? Set ${envVar} (the ${what})`), { code, port });
    if (code === 'EACCES')
      throw Object.assign(new Error(`port ${port} is not allowed for this user (the ${what}); set ${envVar} to a port above 1023`), {
        code,
        port,
      });
    throw err;
  }
}

async function startWeb(s: Services): Promise<Opened> {
  const web = await buildWebServer(s, Metrics.of(s));
  try {
    await registerApi(web, s);
    await web.listen({ host: s.config.bind, port: s.config.webPort });
  } catch (err) {
    await web.close().catch(() => {});
    throw err;
  }
  const addr = web.server.address();
  return { port: typeof addr === 'object' && addr ? addr.port : s.config.webPort, close: () => web.close() };
}

/** A database listener whose statement audit /metrics counts. */
function audited<L extends Opened & { writer: { dropped: number; written: number } }>(
  s: Services,
  protocol: string,
  l: L | null,
): L | null {
  if (l) s.statementAudits.set(protocol, l.writer);
  return l;
}

/** Every listener of a node. A new protocol adds one entry here. */
export const LISTENERS: ListenerSpec[] = [
  { name: 'web', port: 'webPort', envVar: 'GATEHOUSE_WEB_PORT', what: 'console and API', start: startWeb },
  { name: 'ssh', port: 'sshPort', envVar: 'GATEHOUSE_SSH_PORT', what: 'SSH proxy', start: startSshProxy },
  { name: 'http', port: 'httpProxyPort', start: startHttpProxy },
  { name: 'rdp', port: 'rdpPort', start: startRdpGateway },
  { name: 'postgres', port: 'postgresPort', start: async (s) => audited(s, 'postgres', await startPostgresListener(s)) },
  { name: 'mysql', port: 'mysqlPort', start: async (s) => audited(s, 'mysql', await startMysqlGateway(s)) },
  {
    name: 'smtp-in',
    port: 'smtpInPort',
    envVar: 'GATEHOUSE_SMTP_IN_PORT',
    what: 'inbound mail',
    start: async (s) => {
      const n = await startNotify(s);
      return { port: n.smtpInPort, close: () => n.close() };
    },
  },
];

/** The open listeners, by name, with their stop in order (the web server last: the console answers until the end). */
export interface OpenListeners {
  ports: Partial<Record<PortKey, number>>;
  close(): Promise<void>;
}

/** Starts every listener in order; when one cannot start, closes those already open and throws. */
export async function openListeners(s: Services, specs: ListenerSpec[] = LISTENERS): Promise<OpenListeners> {
  const opened: { spec: ListenerSpec; l: Opened }[] = [];
  const closeAll = async (order: typeof opened) => {
    for (const { l } of order) await l.close().catch(() => {});
  };
  try {
    for (const spec of specs) {
      const go = () => spec.start(s);
      const l = spec.envVar ? await listenOrExplain(go, s.config[spec.port], spec.envVar, spec.what ?? spec.name) : await go();
      if (l) opened.push({ spec, l });
    }
  } catch (err) {
    // A listener that cannot start stops the whole start: close what is open, so the process can exit.
    await closeAll([...opened].reverse());
    throw err;
  }
  const ports: Partial<Record<PortKey, number>> = {};
  for (const { spec, l } of opened) if (l.port !== undefined) ports[spec.port] = l.port;
  return {
    ports,
    close: () => closeAll([...opened.filter((o) => o.spec.name !== 'web'), ...opened.filter((o) => o.spec.name === 'web')]),
  };
}

/** Ports configured as 0 (any free port): from now on the config says where we really listen, so the console's ssh command, .rdp files and mail links name the right port. */
export function resolvePorts(config: Config, ports: Partial<Record<PortKey, number>>): void {
  if (config.webPort === 0 && ports.webPort) {
    config.webPort = ports.webPort;
    if (/:0$/.test(config.publicUrl)) config.publicUrl = config.publicUrl.replace(/:0$/, `:${ports.webPort}`);
  }
  for (const k of ['sshPort', 'rdpPort', 'httpProxyPort', 'postgresPort', 'mysqlPort'] as const)
    if (config[k] === 0 && ports[k]) config[k] = ports[k];
}

/** First run: the admin is made only once every listener is up, so a failed start keeps the one-time password unspent. */
export async function firstRunAdmin(s: Services): Promise<void> {
  const admin = await ensureAdmin(s);
  if (admin.generatedPassword)
    process.stdout.write(
      `\nFirst run: created user 'admin' with password ${admin.generatedPassword}\n(shown once; set GATEHOUSE_ADMIN_PASSWORD before the first run to choose it)\n\n`,
    );
}

/** Opens the services of one process: config validated first (a bad variable stops the start), then storage. */
export async function openProcess(env: NodeJS.ProcessEnv, opts: OpenOptions = {}): Promise<Services> {
  const config = loadConfig(env);
  httpProxyConfig(config.http);
  const s = await openServices(config, makeLogger(config.logLevel), opts);
  await s.bus.start();
  return s;
}

/**
 * Starts everything in this process (one worker, or GATEHOUSE_WORKERS=1); returns when listening.
 * `role` says which background work runs here: all of it, or (a worker of several) only the per-process part.
 */
export async function start(env: NodeJS.ProcessEnv = process.env, role: BackgroundRole = 'all'): Promise<Running> {
  const s = await openProcess(env, { migrate: role === 'all' });
  const { log, config } = s;
  const background = await startBackground(s, role);
  let listeners: OpenListeners;
  try {
    listeners = await openListeners(s);
  } catch (err) {
    await background.stop();
    await s.close();
    throw err;
  }
  const { ports } = listeners;
  if (role === 'all') await firstRunAdmin(s);
  resolvePorts(config, ports);
  const semiSpace = semiSpaceMb();
  log.info(
    { database: s.store.where, web: `http://${config.bind}:${config.webPort}`, semiSpaceMb: semiSpace ?? 'default' },
    'gatehouse started',
  );
  if (ports.httpProxyPort !== undefined && semiSpace === null)
    log.warn(
      { want: RUNTIME_FLAGS.join(' ') },
      `node runs with V8's default young generation: the HTTP proxy can spend up to 10x more time in garbage collection. Start it as the launcher does: node ${RUNTIME_FLAGS.join(' ')} bin/gatehouse.js serve`,
    );
  return {
    services: s,
    nodes: background.nodes,
    webPort: ports.webPort ?? config.webPort,
    sshPort: ports.sshPort,
    httpProxyPort: ports.httpProxyPort,
    rdpPort: ports.rdpPort,
    postgresPort: ports.postgresPort,
    mysqlPort: ports.mysqlPort,
    smtpInPort: ports.smtpInPort,
    async stop() {
      await background.stop();
      await listeners.close();
      await s.close();
      log.info('gatehouse stopped');
    },
  };
}

/** How long a fatal error leaves the orderly stop before the process exits anyway. */
const FATAL_STOP_MS = 5000;
/** How long Ctrl-C or SIGTERM waits for the orderly stop (sessions told, database closed) before exiting anyway. */
const STOP_DEADLINE_MS = 4000;

/**
 * Stops in order on SIGINT/SIGTERM (or `trigger`); exits 1 on an uncaught exception. `deadlineMs` bounds
 * the orderly stop. Returns the trigger, for a stop asked some other way (the primary's message to a worker).
 */
function superviseProcess(log: Logger, stopInOrder: () => Promise<void>, deadlineMs = STOP_DEADLINE_MS): (why: string) => void {
  let stopping = false;
  const stop = (why: string) => {
    // A second Ctrl-C means "now" (the primary's word to a worker that Ctrl-C already stops is not a second one).
    if (stopping) return why === 'primary' ? undefined : process.exit(130);
    stopping = true;
    log.info({ signal: why }, 'stopping');
    // Whatever holds the orderly stop (a client that keeps a connection open), the process exits in time.
    setTimeout(() => {
      log.warn({ afterMs: deadlineMs }, 'the orderly stop took too long: exiting anyway');
      process.exit(1);
    }, deadlineMs).unref();
    stopInOrder()
      .then(() => process.exit(0))
      .catch(() => process.exit(1));
  };
  // A gateway holding live sessions must not fall over on one missed promise: log it loudly and go on.
  // (Each background loop catches its own errors; this is the net under them.)
  process.on('unhandledRejection', (err) =>
    log.error({ err: String((err as Error)?.stack ?? err) }, 'unhandled rejection (bug): logged, the gateway goes on'),
  );
  // Whatever escapes to the process is fatal: the process state is unknown. Log it, give the sessions a
  // bounded moment to close, exit non-zero so the supervisor restarts it. Connection handlers catch
  // their own errors, so one hostile client never gets here.
  process.on('uncaughtException', (err) => {
    log.fatal({ err: String((err as Error)?.stack ?? err) }, 'uncaught exception: the gateway stops and exits 1');
    if (stopping) return process.exit(1);
    stopping = true;
    setTimeout(() => process.exit(1), FATAL_STOP_MS);
    stopInOrder().finally(() => process.exit(1));
  });
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
  return stop;
}

const runningLine = (config: Config, webPort: number, workers: number) =>
  `Gatehouse is running: console and API on http://${config.bind}:${webPort}/ (Ctrl-C stops it)${workers > 1 ? ` with ${workers} worker processes` : ''}\n`;

/** The primary of several workers: the database, the node's registration and singletons; the workers hold the listeners. */
async function servePrimary(env: NodeJS.ProcessEnv, count: number): Promise<void> {
  const s = await openProcess(env);
  const background = await startBackground(s, 'node');
  const pool = runPrimary(count, {
    log: s.log,
    nodeId: s.nodeId,
    async ready(ports) {
      resolvePorts(s.config, ports);
      await firstRunAdmin(s);
    },
    workerLost: async (pid) => void (await background.nodes.workerLost(pid)),
    onEvents: () => void s.bus.kick(),
    // The primary's own part: its process, and what its background work counts (audits of sweeps, mail).
    metrics: async (parts) => Metrics.merge([...(parts as Awaited<ReturnType<Metrics['part']>>[]), await Metrics.of(s).part()]),
  });
  s.bus.onWrite(pool.eventsWritten);
  const stopInOrder = async () => {
    // Workers first (sessions told, listeners closed), then the node: its status, the database.
    await pool.stop();
    await background.stop();
    await s.close();
  };
  // Signals are handled from the first fork on: Ctrl-C during the start stops the workers too.
  superviseProcess(s.log, () => stopInOrder().then(() => s.log.info('gatehouse stopped')), STOP_DEADLINE_MS + 2000);
  try {
    await pool.started;
  } catch (err) {
    await background.stop();
    await s.close();
    throw err;
  }
  s.log.info({ workers: pool.pids(), database: s.store.where }, 'gatehouse started');
  process.stdout.write(runningLine(s.config, s.config.webPort, count));
}

/** One worker of several: every listener; the node's singletons stay in the primary. */
async function serveWorker(env: NodeJS.ProcessEnv): Promise<void> {
  const running = await start(env, 'worker');
  const ports: Record<string, number> = {};
  for (const k of ['webPort', 'sshPort', 'httpProxyPort', 'rdpPort', 'smtpInPort'] as const) {
    const v = running[k];
    if (v !== undefined) ports[k] = v;
  }
  const stop = superviseProcess(running.services.log, () => running.stop());
  runWorker(ports, () => stop('primary'), running.services.bus, Metrics.of(running.services));
}

/**
 * `gatehouse serve`: GATEHOUSE_WORKERS processes (default: one per core), or everything in this one
 * process when it is 1. Stops in order on SIGINT/SIGTERM; exits 1 on an uncaught exception.
 */
export async function serve(env: NodeJS.ProcessEnv = startEnv()): Promise<void> {
  if (isWorker()) return serveWorker(env);
  // Every variable is validated before anything forks: a bad one stops the start with its message.
  const count = loadConfig(env).workers;
  if (count > 1 && canFork()) return servePrimary(env, count);
  const running = await start(env);
  process.stdout.write(runningLine(running.services.config, running.webPort, 1));
  superviseProcess(running.services.log, () => running.stop());
}
