// One worker of bench/http.ts: a whole gateway whose HTTP proxy listens on the shared port (node:cluster
// hands every worker the same listening socket). It runs the compiled code in dist/, as `npm start` does
// (bench/http.ts builds it first): under tsx, every arrow function kept in a const gets a __name() call
// each time it is created, which production code does not pay. Reports its event-loop delay when stopped.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { start } from '../dist/main.js';

const g = await start(process.env);
const delay = monitorEventLoopDelay({ resolution: 5 });
delay.enable();
process.send?.({ ready: g.httpProxyPort });
process.on('SIGTERM', () => {
  const ms = (n) => (n / 1e6).toFixed(1);
  if (process.env.BENCH_VERBOSE)
    process.stderr.write(`worker ${process.pid}: event-loop delay p99 ${ms(delay.percentile(99))} ms, max ${ms(delay.max)} ms\n`);
  void g.stop().then(() => process.exit(0));
});
