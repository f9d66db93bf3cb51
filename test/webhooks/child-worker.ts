// A webhook worker in its own process, for the restart test (spawned by restart.test.ts, killed with
// SIGKILL while a delivery is claimed). Env: the test's services env, GH_LEASE_MS.
import { loadConfig } from '../../src/config/env.js';
import { makeLogger } from '../../src/log.js';
import { openServices } from '../../src/services.js';
import { WebhookWorker, WEBHOOK_DEFAULTS } from '../../src/notify/webhooks-worker.js';

const s = await openServices(loadConfig(process.env), makeLogger('silent'));
const worker = new WebhookWorker(s, { ...WEBHOOK_DEFAULTS, pollMs: 50, leaseMs: Number(process.env.GH_LEASE_MS ?? 3000) });
worker.start();
process.stdout.write('started\n');
setInterval(() => {}, 1000);
