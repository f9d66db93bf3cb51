// Composition root: config -> storage -> services -> listeners. The only file that knows every protocol.
import { loadConfig } from './config/env.js';
import { makeLogger } from './log.js';
import { ensureAdmin, openServices, type Services } from './services.js';
import { startPgListener } from './storage/pg-notify.js';
import { buildWebServer } from './api/server.js';
import { Metrics } from './api/metrics.js';
import { registerApi } from './api/routes/index.js';
import { startSshProxy, type Listener } from './protocols/ssh/index.js';
import { startNotify, type Notifier } from './notify/index.js';

export interface Running {
  services: Services;
  webPort: number;
  /** The SSH proxy's port, when it runs. */
  sshPort?: number;
  smtpInPort?: number;
  stop(): Promise<void>;
}

/** Starts everything; returns when listening. Background work: event polling, expiry and escalation. */
export async function start(env: NodeJS.ProcessEnv = process.env): Promise<Running> {
  const config = loadConfig(env);
  const log = makeLogger(config.logLevel);
  const s = await openServices(config, log);
  const admin = await ensureAdmin(s);
  if (admin.generatedPassword)
    process.stdout.write(`\nFirst run: created user 'admin' with password ${admin.generatedPassword}\n(shown once; set GATEHOUSE_ADMIN_PASSWORD before the first run to choose it)\n\n`);
  await s.bus.start();
  // PostgreSQL: be woken by NOTIFY the moment another node commits an event (polling stays as the safety net).
  const pgListener = config.databaseUrl ? startPgListener(config.databaseUrl, () => void s.bus.kick(), (err) => log.warn({ err: String(err) }, 'event notification connection lost; reconnecting')) : null;

  let sweeping = false;
  const sweep = async () => {
    if (sweeping) return;
    sweeping = true;
    try {
      const expired = await s.approvals.expireDue();
      const escalated = await s.approvals.escalateDue();
      if (expired || escalated) log.info({ expired, escalated }, 'sweeper');
      await s.store.pruneEvents(s.clock.now() - 24 * 3600_000);
    } catch (err) {
      log.warn({ err: String(err) }, 'sweeper failed; will retry');
    } finally {
      sweeping = false;
    }
  };
  const sweeper = setInterval(() => void sweep(), config.sweepMs);
  void sweep();

  const sessionCheck = setInterval(() => void s.sessions.check().catch(() => {}), 1000);
  sessionCheck.unref();

  const metrics = new Metrics(s);
  const web = await buildWebServer(s, metrics);
  await registerApi(web, s);
  await web.listen({ host: config.bind, port: config.webPort });
  const ssh: Listener | null = await startSshProxy(s);
  const notify: Notifier | null = await startNotify(s);
  const addr = web.server.address();
  const webPort = typeof addr === 'object' && addr ? addr.port : config.webPort;
  log.info({ database: s.store.handle.where, web: `http://${config.bind}:${webPort}` }, 'gatehouse started');

  return {
    services: s,
    webPort,
    sshPort: ssh?.port,
    smtpInPort: notify?.smtpInPort,
    async stop() {
      clearInterval(sweeper);
      clearInterval(sessionCheck);
      await pgListener?.close();
      await ssh?.close();
      await notify?.close();
      await web.close();
      await s.close();
      log.info('gatehouse stopped');
    },
  };
}

/** `gatehouse serve`: start, then stop in order on SIGINT/SIGTERM. */
export async function serve(): Promise<void> {
  const running = await start();
  process.stdout.write(`Gatehouse is running: console and API on http://${running.services.config.bind}:${running.webPort}/ (Ctrl-C stops it)\n`);
  let stopping = false;
  const stop = (sig: string) => {
    if (stopping) return;
    stopping = true;
    running.services.log.info({ signal: sig }, 'stopping');
    running
      .stop()
      .then(() => process.exit(0))
      .catch(() => process.exit(1));
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}
