// Where a page load's time goes, from Chromium's Resource Timing: per asset the queue (fetch start to the
// request, less any connection set-up), connection set-up, time to first byte and download; per load the
// new connections, the document's own phases and the last asset's end. Used by bench/browser.ts
// (BENCH_BROWSER_TIMING=1) to compare the same page direct and through the proxy.
import { median, pct } from './stats.js';

/** Page-side code (a string: this project's TypeScript has no DOM types) returning a `RawTiming`. */
export const COLLECT = `(() => {
  const n = performance.getEntriesByType('navigation')[0];
  const f = (e) => [e.fetchStart, e.connectStart, e.connectEnd, e.requestStart, e.responseStart, e.responseEnd];
  return {
    nav: [...f(n), n.domContentLoadedEventEnd, n.loadEventStart, n.loadEventEnd],
    res: performance.getEntriesByType('resource').map((e) => [e.name.split('/').pop(), ...f(e)]),
  };
})()`;

export interface RawTiming {
  /** fetchStart, connectStart, connectEnd, requestStart, responseStart, responseEnd, DCL end, load start, load end. */
  nav: number[];
  /** [name, fetchStart, connectStart, connectEnd, requestStart, responseStart, responseEnd]. */
  res: [string, number, number, number, number, number, number][];
}

interface Phases {
  queue: number[];
  connect: number[];
  ttfb: number[];
  download: number[];
  newConns: number[];
  navConnect: number[];
  navTtfb: number[];
  navDownload: number[];
  lastAsset: number[];
  dcl: number[];
  load: number[];
  /** Assets whose first byte took 35-45 ms or 75-85 ms past the request: Nagle / delayed ACK steps. */
  ackSteps: number;
}

export function phases(loads: RawTiming[]): Phases {
  const p: Phases = {
    queue: [],
    connect: [],
    ttfb: [],
    download: [],
    newConns: [],
    navConnect: [],
    navTtfb: [],
    navDownload: [],
    lastAsset: [],
    dcl: [],
    load: [],
    ackSteps: 0,
  };
  for (const l of loads) {
    const [, cs, ce, rq, rs, re, dcl, , le] = l.nav;
    p.navConnect.push(ce - cs);
    p.navTtfb.push(rs - rq);
    p.navDownload.push(re - rs);
    p.dcl.push(dcl);
    p.load.push(le);
    let conns = ce > cs ? 1 : 0;
    let last = 0;
    for (const [, fs, rcs, rce, rrq, rrs, rre] of l.res) {
      if (rrq === 0) continue; // the websocket and anything without timing details
      const c = rce - rcs;
      if (c > 0) conns++;
      p.connect.push(c);
      p.queue.push(rrq - fs - c);
      const t = rrs - rrq;
      p.ttfb.push(t);
      if ((t >= 35 && t <= 45) || (t >= 75 && t <= 85)) p.ackSteps++;
      p.download.push(rre - rrs);
      last = Math.max(last, rre);
    }
    p.newConns.push(conns);
    p.lastAsset.push(last);
  }
  return p;
}

const fmt = (xs: number[]) => `${median(xs).toFixed(1)}/${pct(xs, 0.9).toFixed(1)}`;

/** One line per path: medians/p90 in ms of each phase. */
export function phaseText(name: string, loads: RawTiming[]): string {
  const p = phases(loads);
  return [
    `  ${name}: document connect ${fmt(p.navConnect)}, ttfb ${fmt(p.navTtfb)}, download ${fmt(p.navDownload)};`,
    `    assets (median/p90 ms): queue ${fmt(p.queue)}, connect ${fmt(p.connect)}, ttfb ${fmt(p.ttfb)}, download ${fmt(p.download)};`,
    `    per load: new connections ${fmt(p.newConns)}, last asset's end ${fmt(p.lastAsset)}, DOMContentLoaded ${fmt(p.dcl)}, load end ${fmt(p.load)}; ttfb at 40/80 ms steps: ${p.ackSteps} of ${p.ttfb.length}`,
  ].join('\n');
}
