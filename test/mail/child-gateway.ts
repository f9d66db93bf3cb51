// A child process for the crash test (spawned by crash.test.ts, killed with SIGKILL).
//   GH_CHILD_MODE=commit-only: open the services without mail, commit one request, then SIGKILL itself.
//   GH_CHILD_MODE=serve: start the whole gateway (its SMTP server hangs), commit one request, wait to be killed.
import { loadConfig } from '../../src/config/env.js';
import { makeLogger } from '../../src/log.js';
import { start } from '../../src/main.js';
import { openServices } from '../../src/services.js';

const [username, device] = (process.env.GH_CHILD_REQUEST ?? 'alice:web01').split(':');
const input = { username, device, protocol: 'ssh' as const, reason: 'crash test', channel: 'cli' as const };

if (process.env.GH_CHILD_MODE === 'commit-only') {
  const s = await openServices(loadConfig(process.env), makeLogger('silent'));
  const r = await s.approvals.request(input);
  process.stdout.write(`committed ${r.outcome === 'waiting' ? r.request.id : -1}\n`);
  process.kill(process.pid, 'SIGKILL');
} else {
  const g = await start(process.env);
  const r = await g.services.approvals.request(input);
  process.stdout.write(`committed ${r.outcome === 'waiting' ? r.request.id : -1}\n`);
  setInterval(() => {}, 1000);
}
