// What a person feels through the HTTP proxy (issue 24, item 4): headless Chromium (Debian's, driven by
// playwright-core) loads a realistic device console served by nginx (~60 assets, a few hundred KB, and a
// websocket that streams) directly and through the gateway's HTTP proxy, taking turns:
//   cold - a fresh browser context (empty cache, new connections) per load;
//   warm - one context per path, primed once, then a new tab per load (assets from the cache).
// Figures: median (and p90) of BENCH_BROWSER_LOADS (20) loads each, navigation timing (start to the
// load event's end) and the websocket's first message. Target: gateway <= 1.1x direct.
// Run: npm run bench -- browser     (figures also in .bench-out/browser.json)
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { resolve } from 'node:path';
import { chromium, type Browser, type BrowserContext } from 'playwright-core';
import { proxyCookie, startGw } from './lib/http.js';
import { startConsoleSite } from './lib/console-site.js';
import { loadText, median, pct } from './lib/stats.js';

const CHROMIUM = '/usr/bin/chromium';
const LOADS = Number(process.env.BENCH_BROWSER_LOADS ?? 20);
if (!existsSync(CHROMIUM)) {
  console.log('browser bench needs Debian chromium (apt-get install chromium)');
  process.exit(0);
}

interface Load {
  loadMs: number;
  wsFirstMs: number;
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
    return { loadMs, wsFirstMs };
  } finally {
    await page.close();
  }
}

const load0 = loadavg();
const site = await startConsoleSite();
const gw = await startGw({ approval: false, nodePort: site.port, nginxPort: site.port });
const cookie = await proxyCookie(gw, 'alice', 'static');
const [cookieName, ...rest] = cookie.split('=');
const paths: Record<string, { url: string; ctx: (b: Browser) => Promise<BrowserContext> }> = {
  direct: { url: `http://127.0.0.1:${site.port}/index.html`, ctx: (b) => b.newContext() },
  gateway: {
    url: `http://${gw.host('static')}/index.html`,
    ctx: async (b) => {
      const c = await b.newContext();
      await c.addCookies([{ name: cookieName, value: rest.join('='), domain: 'static.localhost', path: '/' }]);
      return c;
    },
  },
};
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
const names = ['direct', 'gateway'] as const;
const cold: Record<string, Load[]> = { direct: [], gateway: [] };
const warm: Record<string, Load[]> = { direct: [], gateway: [] };
// A first load each, not counted (Chromium's own start-up, the gateway's first grant check).
for (const n of names) {
  const c = await paths[n].ctx(browser);
  await loadOnce(c, paths[n].url);
  await c.close();
}
for (let i = 0; i < LOADS; i++)
  for (const n of i % 2 ? [...names].reverse() : names) {
    const c = await paths[n].ctx(browser);
    cold[n].push(await loadOnce(c, paths[n].url));
    await c.close();
  }
const warmCtx = { direct: await paths.direct.ctx(browser), gateway: await paths.gateway.ctx(browser) };
for (const n of names) await loadOnce(warmCtx[n], paths[n].url);
for (let i = 0; i < LOADS; i++)
  for (const n of i % 2 ? [...names].reverse() : names) warm[n].push(await loadOnce(warmCtx[n], paths[n].url));
await browser.close();

const stat = (xs: Load[], k: keyof Load) => ({
  median: median(xs.map((x) => x[k])),
  p90: pct(
    xs.map((x) => x[k]),
    0.9,
  ),
});
const result = {
  at: new Date().toISOString(),
  loadAverageAtStart: load0,
  loadAverageAtEnd: loadavg(),
  site: { assets: site.assets, bytes: site.bytes },
  cold: {
    direct: stat(cold.direct, 'loadMs'),
    gateway: stat(cold.gateway, 'loadMs'),
    wsDirect: stat(cold.direct, 'wsFirstMs'),
    wsGateway: stat(cold.gateway, 'wsFirstMs'),
  },
  warm: {
    direct: stat(warm.direct, 'loadMs'),
    gateway: stat(warm.gateway, 'loadMs'),
    wsDirect: stat(warm.direct, 'wsFirstMs'),
    wsGateway: stat(warm.gateway, 'wsFirstMs'),
  },
};
mkdirSync(resolve('.bench-out'), { recursive: true });
writeFileSync(resolve('.bench-out/browser.json'), JSON.stringify(result, null, 2));
const ms = (x: number) => `${x.toFixed(0)} ms`;
console.log(
  `\nDevice console in Chromium, ${site.assets} assets (${(site.bytes / 1024).toFixed(0)} KB) + a streaming websocket; median (p90) of ${LOADS} loads; load average ${load0.map((x) => x.toFixed(1)).join(' ')} at start, ${loadText()} at end`,
);
for (const kind of ['cold', 'warm'] as const) {
  const r = result[kind];
  console.log(
    `  ${kind}: direct ${ms(r.direct.median)} (${ms(r.direct.p90)}), gateway ${ms(r.gateway.median)} (${ms(r.gateway.p90)}): ${(r.gateway.median / r.direct.median).toFixed(2)}x direct (target <= 1.1x); websocket's first message ${ms(r.wsDirect.median)} vs ${ms(r.wsGateway.median)}`,
  );
}
await site.stop();
await gw.stop();
process.exit(0);
