// Composition root: config -> storage -> services -> listeners. The only file that knows every protocol.
import { loadConfig } from './config/env.js';
import { httpProxyConfig } from './config/http.js';
import { makeLogger } from './log.js';
import { ensureAdmin, openServices, type Services } from './services.js';
import { startBackground } from './background.js';
import type { NodeService } from './core/nodes.js';
import { buildWebServer } from './api/server.js';
import { Metrics } from './api/metrics.js';
import { registerApi } from './api/routes/index.js';
import { startSshProxy, type Listener } from './protocols/ssh/index.js';
import { startHttpProxy } from './protocols/http/index.js';
import { startRdpGateway } from './protocols/rdp/index.js';
import { startPostgresListener } from './protocols/postgres/index.js';
import { startMysqlGateway } from './protocols/mysql/index.js';
import { startNotify, type Notifier } from './notify/index.js';
import { RUNTIME_FLAGS, semiSpaceMb } from './runtime.js';

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
  smtpInPort?: number;
  stop(): Promise<void>;
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

/** Starts everything; returns when listening. Background work: event polling, expiry and escalation. */
export async function start(env: NodeJS.ProcessEnv = process.env): Promise<Running> {
  // Every variable is validated here, before anything opens or listens: a bad one stops the start.
  const config = loadConfig(env);
  httpProxyConfig(config.http);
  const log = makeLogger(config.logLevel);
  const s = await openServices(config, log);
  await s.bus.start();
  const background = await startBackground(s);
  const opened: { close(): Promise<void> }[] = [];
  let ssh: Listener | null = null;
  let http: Awaited<ReturnType<typeof startHttpProxy>> = null;
  let rdp: Awaited<ReturnType<typeof startRdpGateway>> = null;
  let pg: Awaited<ReturnType<typeof startPostgresListener>> = null;
  let mysql: Awaited<ReturnType<typeof startMysqlGateway>> = null;
  let notify: Notifier | null = null;
  const web = await buildWebServer(s, new Metrics(s));
  try {
    await registerApi(web, s);
    await listenOrExplain(
      () => web.listen({ host: config.bind, port: config.webPort }),
      config.webPort,
      'GATEHOUSE_WEB_PORT',
      'console and API',
    );
    opened.push({ close: () => web.close() });
    ssh = await listenOrExplain(() => startSshProxy(s), config.sshPort, 'GATEHOUSE_SSH_PORT', 'SSH proxy');
    http = await startHttpProxy(s);
    rdp = await startRdpGateway(s);
    pg = await startPostgresListener(s);
    mysql = await startMysqlGateway(s);
    notify = await listenOrExplain(() => startNotify(s), config.smtpInPort, 'GATEHOUSE_SMTP_IN_PORT', 'inbound mail');
  } catch (err) {
    // A listener that cannot start stops the whole start: close what is open, so the process can exit.
    for (const l of [notify, mysql, pg, rdp, http, ssh, ...opened]) await l?.close().catch(() => {});
    await background.stop();
    await s.close();
    throw err;
  }
  // Only now, with every listener up, is the first-run admin made: a failed start keeps the one-time password unspent.
  const admin = await ensureAdmin(s);
  if (admin.generatedPassword)
    process.stdout.write(
      `\nFirst run: created user 'admin' with password ${admin.generatedPassword}\n(shown once; set GATEHOUSE_ADMIN_PASSWORD before the first run to choose it)\n\n`,
    );
  const addr = web.server.address();
  const webPort = typeof addr === 'object' && addr ? addr.port : config.webPort;
  // Ports configured as 0 (any free port): from now on the config says where we really listen, so the
  // console's ssh command, .rdp files and mail links name the right port.
  if (config.webPort === 0) {
    config.webPort = webPort;
    if (/:0$/.test(config.publicUrl)) config.publicUrl = config.publicUrl.replace(/:0$/, `:${webPort}`);
  }
  if (ssh && config.sshPort === 0) config.sshPort = ssh.port;
  if (rdp && config.rdpPort === 0) config.rdpPort = rdp.port;
  if (http && config.httpProxyPort === 0) config.httpProxyPort = http.port;
  if (pg && config.postgresPort === 0) config.postgresPort = pg.port;
  const semiSpace = semiSpaceMb();
  log.info({ database: s.store.where, web: `http://${config.bind}:${webPort}`, semiSpaceMb: semiSpace ?? 'default' }, 'gatehouse started');
  if (http && semiSpace === null)
    log.warn(
      { want: RUNTIME_FLAGS.join(' ') },
      `node runs with V8's default young generation: the HTTP proxy can spend up to 10x more time in garbage collection. Start it as the launcher does: node ${RUNTIME_FLAGS.join(' ')} bin/gatehouse.js serve`,
    );

  return {
    services: s,
    nodes: background.nodes,
    webPort,
    sshPort: ssh?.port,
    httpProxyPort: http?.port,
    rdpPort: rdp?.port,
    postgresPort: pg?.port,
    smtpInPort: notify?.smtpInPort,
    async stop() {
      await background.stop();
      await ssh?.close();
      await http?.close();
      await rdp?.close();
      await Promise.all([pg?.close(), mysql?.close()]);
      await notify?.close();
      await web.close();
      await s.close();
      log.info('gatehouse stopped');
    },
  };
}

/** How long a fatal error leaves the orderly stop before the process exits anyway. */
const FATAL_STOP_MS = 5000;
/** How long Ctrl-C or SIGTERM waits for the orderly stop (sessions told, database closed) before exiting anyway. */
const STOP_DEADLINE_MS = 4000;

/** `gatehouse serve`: start, then stop in order on SIGINT/SIGTERM; exit 1 on an uncaught exception. */
export async function serve(): Promise<void> {
  const running = await start();
  process.stdout.write(
    `Gatehouse is running: console and API on http://${running.services.config.bind}:${running.webPort}/ (Ctrl-C stops it)\n`,
  );
  let stopping = false;
  const stop = (sig: string) => {
    // A second Ctrl-C means "now".
    if (stopping) return process.exit(130);
    stopping = true;
    running.services.log.info({ signal: sig }, 'stopping');
    // Whatever holds the orderly stop (a client that keeps a connection open), the process exits in time.
    setTimeout(() => {
      running.services.log.warn({ afterMs: STOP_DEADLINE_MS }, 'the orderly stop took too long: exiting anyway');
      process.exit(1);
    }, STOP_DEADLINE_MS).unref();
    running
      .stop()
      .then(() => process.exit(0))
      .catch(() => process.exit(1));
  };
  // A gateway holding live sessions must not fall over on one missed promise: log it loudly and go on.
  // (Each background loop catches its own errors; this is the net under them.)
  process.on('unhandledRejection', (err) =>
    running.services.log.error({ err: String((err as Error)?.stack ?? err) }, 'unhandled rejection (bug): logged, the gateway goes on'),
  );
  // Whatever escapes to the process is fatal: the process state is unknown. Log it, give the sessions a
  // bounded moment to close, exit non-zero so the supervisor restarts it. Connection handlers catch
  // their own errors, so one hostile client never gets here.
  process.on('uncaughtException', (err) => {
    running.services.log.fatal({ err: String((err as Error)?.stack ?? err) }, 'uncaught exception: the gateway stops and exits 1');
    if (stopping) return process.exit(1);
    stopping = true;
    setTimeout(() => process.exit(1), FATAL_STOP_MS);
    running.stop().finally(() => process.exit(1));
  });
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}
