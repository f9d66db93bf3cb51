// What a person feels through the HTTP proxy (issue 24, item 4): headless Chromium (Debian's, driven by
// playwright-core) loads a realistic device console served by nginx (~60 assets, a few hundred KB, and a
// websocket that streams) directly and through the gateway's HTTP proxy, taking turns:
//   cold - a fresh browser context (empty cache, new connections) per load;
//   warm - one context per path, primed once, then a new tab per load (assets from the cache).
// Figures: median (and p90) of BENCH_BROWSER_LOADS (20) loads each, navigation timing (start to the
// load event's end) and the websocket's first message. Target: gateway <= 1.1x direct.
// The gateway runs compiled in a process of its own, as in production (BENCH_BROWSER_GATEWAY=inprocess: in
// this process, sharing its event loop with the Chromium driver). BENCH_BROWSER_TIMING=1 also prints where
// the cold loads' time goes (Resource Timing per asset: queue, connect, first byte, download).
// Run: npm run bench -- browser     (figures also in .bench-out/browser.json)
import { execFileSync, fork, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { resolve } from 'node:path';
import { chromium, type Browser, type BrowserContext } from 'playwright-core';
import { freePort, proxyCookie, startGw } from './lib/http.js';
import { startConsoleSite } from './lib/console-site.js';
import { COLLECT, phaseText, type RawTiming } from './lib/browser-timing.js';
import { loadText, median, pct } from './lib/stats.js';
import { procStat } from './lib/gateway.js';
import { RUNTIME_FLAGS } from '../src/runtime.js';

const CHROMIUM = '/usr/bin/chromium';
const LOADS = Number(process.env.BENCH_BROWSER_LOADS ?? 20);
const IN_PROCESS = process.env.BENCH_BROWSER_GATEWAY === 'inprocess';
const TIMING = !!process.env.BENCH_BROWSER_TIMING;
if (!existsSync(CHROMIUM)) {
  console.log('browser bench needs Debian chromium (apt-get install chromium)');
  process.exit(0);
}

interface Load {
  loadMs: number;
  wsFirstMs: number;
  timing?: RawTiming;
}

async function loadOnce(ctx: BrowserContext, url: string): Promise<Load> {
  const page = await ctx.newPage();
  try {
    await page.goto(url, { waitUntil: 'load' });
    // Page-side code as strings: this project's TypeScript has no DOM types.
    await page.waitForFunction('window.__wsFirst !== undefined', null, { timeout: 10_000 });
    const [loadMs, wsFirstMs] = await page.evaluate<[number, number]>(
      `(() => { const nav = performance.getEntriesByType('navigation')[0]; return [nav.loadEventEnd - nav.startTime, window.__wsFirst]; })()`,
    );
    return { loadMs, wsFirstMs, timing: TIMING ? await page.evaluate<RawTiming>(COLLECT) : undefined };
  } finally {
    await page.close();
  }
}

/**
 * The proxy on a port of its own: the set-up gateway (in this process) makes the users, devices and the
 * cookie; unless BENCH_BROWSER_GATEWAY=inprocess it is then stopped and the compiled gateway serves the
 * same data dir (same vault key: the cookie stays valid) in its own process (bench/http-worker.mjs).
 */
async function startProxy(sitePort: number): Promise<{ port: number; cookie: string; pid?: number; stop(): Promise<void> }> {
  const gw = await startGw({ approval: false, nodePort: sitePort, nginxPort: sitePort });
  const cookie = await proxyCookie(gw, 'alice', 'static');
  if (IN_PROCESS) return { port: gw.proxyPort, cookie, stop: () => gw.stop() };
  execFileSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { stdio: 'inherit' });
  await gw.g.stop();
  const port = await freePort();
  const env = {
    ...process.env,
    GATEHOUSE_DATA_DIR: gw.dir,
    GATEHOUSE_SECRET_KEY: 'test-vault-key-0123456789abcdef',
    GATEHOUSE_HTTP_PROXY_PORT: String(port),
    GATEHOUSE_WEB_PORT: '0',
    GATEHOUSE_SSH_PORT: '0',
    GATEHOUSE_RDP_PORT: '0',
    GATEHOUSE_LOG_LEVEL: 'silent',
  };
  const flags = [
    ...(process.env.BENCH_DEFAULT_RUNTIME ? [] : RUNTIME_FLAGS),
    ...(process.env.BENCH_GATEWAY_FLAGS ?? '').split(' ').filter(Boolean),
  ];
  const w: ChildProcess = fork('bench/http-worker.mjs', [], { env, execArgv: flags });
  await new Promise((r) => w.once('message', r));
  return {
    port,
    cookie,
    pid: w.pid,
    async stop() {
      await new Promise((r) => (w.once('exit', r), w.kill()));
      rmSync(gw.dir, { recursive: true, force: true });
    },
  };
}

const load0 = loadavg();
const site = await startConsoleSite();
const gw = await startProxy(site.port);
const cookie = gw.cookie;
const [cookieName, ...rest] = cookie.split('=');
type Path = { url: string; ctx: (b: Browser) => Promise<BrowserContext> };
const paths: Record<string, Path> = {
  direct: { url: `http://127.0.0.1:${site.port}/index.html`, ctx: (b) => b.newContext() },
  gateway: {
    url: `http://static.localhost:${gw.port}/index.html`,
    ctx: async (b) => {
      const c = await b.newContext();
      await c.addCookies([{ name: cookieName, value: rest.join('='), domain: 'static.localhost', path: '/' }]);
      return c;
    },
  },
};
// BENCH_BROWSER_RELAY=1: the same page through a Node TCP relay (bench/http-relay.mjs, no HTTP parsing):
// what any Node process in the path costs on this machine.
let relay: ChildProcess | null = null;
if (process.env.BENCH_BROWSER_RELAY) {
  const port = await freePort();
  relay = fork('bench/http-relay.mjs', [String(site.port), String(port)], { execArgv: [...RUNTIME_FLAGS] });
  await new Promise((r) => relay!.once('message', r));
  paths.relay = { url: `http://127.0.0.1:${port}/index.html`, ctx: (b) => b.newContext() };
}
const browser = await chromium.launch({
  executablePath: CHROMIUM,
  headless: true,
  args: [
    '--no-sandbox',
    '--disable-gpu',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--no-first-run',
  ],
});
const names = Object.keys(paths);
const cold: Record<string, Load[]> = Object.fromEntries(names.map((n) => [n, []]));
const warm: Record<string, Load[]> = Object.fromEntries(names.map((n) => [n, []]));
const gwCpu = { cold: 0, warm: 0 };
/** One load on path `n`, taking turns; the gateway's CPU time is added up when it runs in its own process. */
async function timed(kind: 'cold' | 'warm', n: string, ctx: BrowserContext): Promise<Load> {
  const before = n === 'gateway' && gw.pid ? procStat(gw.pid).cpuMs : 0;
  const l = await loadOnce(ctx, paths[n].url);
  if (n === 'gateway' && gw.pid) gwCpu[kind] += procStat(gw.pid).cpuMs - before;
  return l;
}
// A first load each, not counted (Chromium's own start-up, the gateway's first grant check).
for (const n of names) {
  const c = await paths[n].ctx(browser);
  await loadOnce(c, paths[n].url);
  await c.close();
}
for (let i = 0; i < LOADS; i++)
  for (const n of i % 2 ? [...names].reverse() : names) {
    const c = await paths[n].ctx(browser);
    cold[n].push(await timed('cold', n, c));
    await c.close();
  }
const warmCtx: Record<string, BrowserContext> = {};
for (const n of names) {
  warmCtx[n] = await paths[n].ctx(browser);
  await loadOnce(warmCtx[n], paths[n].url);
}
for (let i = 0; i < LOADS; i++) for (const n of i % 2 ? [...names].reverse() : names) warm[n].push(await timed('warm', n, warmCtx[n]));
await browser.close();
relay?.kill();

const stat = (xs: Load[], k: 'loadMs' | 'wsFirstMs') => ({
  median: median(xs.map((x) => x[k])),
  p90: pct(
    xs.map((x) => x[k]),
    0.9,
  ),
});
const figures = (loads: Record<string, Load[]>) =>
  Object.fromEntries(names.map((n) => [n, { load: stat(loads[n], 'loadMs'), websocket: stat(loads[n], 'wsFirstMs') }]));
const result = {
  at: new Date().toISOString(),
  loadAverageAtStart: load0,
  loadAverageAtEnd: loadavg(),
  gateway: IN_PROCESS ? 'in the benchmark process' : 'compiled, own process',
  site: { assets: site.assets, bytes: site.bytes },
  cold: figures(cold),
  warm: figures(warm),
  gatewayCpuMsPerLoad: gw.pid ? { cold: gwCpu.cold / LOADS, warm: gwCpu.warm / LOADS } : null,
};
mkdirSync(resolve('.bench-out'), { recursive: true });
writeFileSync(resolve('.bench-out/browser.json'), JSON.stringify(result, null, 2));
const ms = (x: number) => `${x.toFixed(0)} ms`;
console.log(
  `\nDevice console in Chromium, ${site.assets} assets (${(site.bytes / 1024).toFixed(0)} KB) + a streaming websocket; gateway ${result.gateway}; median (p90) of ${LOADS} loads; load average ${load0.map((x) => x.toFixed(1)).join(' ')} at start, ${loadText()} at end`,
);
for (const kind of ['cold', 'warm'] as const) {
  const r = result[kind];
  const d = r.direct.load.median;
  const each = names
    .filter((n) => n !== 'direct')
    .map((n) => `${n} ${ms(r[n].load.median)} (${ms(r[n].load.p90)}): ${(r[n].load.median / d).toFixed(2)}x`);
  const cpu = result.gatewayCpuMsPerLoad ? `; gateway CPU ${result.gatewayCpuMsPerLoad[kind].toFixed(0)} ms per load` : '';
  console.log(
    `  ${kind}: direct ${ms(d)} (${ms(r.direct.load.p90)}), ${each.join(', ')} direct (target <= 1.1x); websocket's first message ${names.map((n) => ms(r[n].websocket.median)).join(' / ')}${cpu}`,
  );
}
if (TIMING) {
  console.log('  where cold loads go (ms, median/p90):');
  for (const n of names)
    console.log(
      phaseText(
        n,
        cold[n].map((l) => l.timing!),
      ),
    );
}
await site.stop();
await gw.stop();
process.exit(0);
