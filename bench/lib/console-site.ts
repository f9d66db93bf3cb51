// A realistic device web console for the browser benchmark: nginx (Debian's, a temp config on a free
// port) serving a page with ~60 assets (scripts, stylesheets, PNG images: a few hundred KB in all,
// cacheable for an hour like a real console's static files) and /ws proxied to a websocket that streams.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import { WebSocketServer } from 'ws';
import { freePort } from './net.js';
import { hasBinary } from './peers.js';

const crcTable = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
const crc32 = (b: Buffer) => {
  let c = 0xffffffff;
  for (const x of b) c = crcTable[(c ^ x) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
};
function chunk(type: string, data: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([len, body, crc]);
}

/** A valid w x h RGB PNG of noise (it does not compress: its size is what a photo-like icon costs). */
export function noisePng(w: number, h: number): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr.set([8, 2, 0, 0, 0], 8);
  const rows = Buffer.concat(Array.from({ length: h }, () => Buffer.concat([Buffer.from([0]), randomBytes(w * 3)])));
  return Buffer.concat([
    Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(rows)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

export interface Site {
  port: number;
  assets: number;
  bytes: number;
  stop(): Promise<void>;
}

export async function startConsoleSite(o: { scripts?: number; styles?: number; images?: number } = {}): Promise<Site> {
  const dir = mkdtempSync(join(tmpdir(), 'gh-console-site-'));
  const root = join(dir, 'site');
  mkdirSync(join(root, 'assets'), { recursive: true });
  const [scripts, styles, images] = [o.scripts ?? 20, o.styles ?? 10, o.images ?? 30];
  let bytes = 0;
  const put = (name: string, data: string | Buffer) => {
    writeFileSync(join(root, name), data);
    bytes += data.length;
  };
  const filler = (n: number) => randomBytes(n).toString('base64').slice(0, n);
  for (let i = 0; i < scripts; i++) put(`assets/app${i}.js`, `window.__mods=(window.__mods||0)+1;/*${filler(8000)}*/\n`);
  for (let i = 0; i < styles; i++) put(`assets/style${i}.css`, `.c${i}{color:#${(i * 123456) % 0xffffff};}/*${filler(4000)}*/\n`);
  for (let i = 0; i < images; i++) put(`assets/icon${i}.png`, noisePng(48, 48));
  // The console's live view: a websocket opened as the page starts; the time of its first message is kept.
  const html = `<!doctype html><html><head><meta charset="utf-8"><title>device console</title>
${Array.from({ length: styles }, (_, i) => `<link rel="stylesheet" href="/assets/style${i}.css">`).join('\n')}
<script>window.__ws0=performance.now();const ws=new WebSocket((location.protocol==='https:'?'wss://':'ws://')+location.host+'/ws');ws.onmessage=()=>{window.__wsFirst??=performance.now();window.__wsCount=(window.__wsCount||0)+1;};</script>
${Array.from({ length: scripts }, (_, i) => `<script src="/assets/app${i}.js"></script>`).join('\n')}
</head><body><h1>Device console</h1>
${Array.from({ length: images }, (_, i) => `<img src="/assets/icon${i}.png" width="48" height="48" alt="">`).join('\n')}
</body></html>`;
  put('index.html', html);

  // The streaming side: 20 messages a second of ~200 bytes to each client.
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise<void>((r) => wss.once('listening', () => r()));
  const wsPort = (wss.address() as { port: number }).port;
  wss.on('connection', (ws) => {
    const t = setInterval(() => ws.send(JSON.stringify({ at: Date.now(), cpu: Math.random(), pad: 'x'.repeat(160) })), 50);
    ws.on('close', () => clearInterval(t));
    ws.on('error', () => clearInterval(t));
  });

  const port = await freePort();
  const conf = `daemon off; master_process off; worker_processes 1; pid ${dir}/nginx.pid; error_log ${dir}/error.log warn;
events { worker_connections 1024; }
http { access_log off; client_body_temp_path ${dir}/body; proxy_temp_path ${dir}/proxy; fastcgi_temp_path ${dir}/fcgi; uwsgi_temp_path ${dir}/uwsgi; scgi_temp_path ${dir}/scgi;
  types { text/html html; application/javascript js; text/css css; image/png png; } sendfile on; keepalive_requests 100000;
  server { listen 127.0.0.1:${port};
    location / { root ${root}; }
    location /assets/ { root ${root}; add_header Cache-Control "max-age=3600"; }
    location /ws { proxy_pass http://127.0.0.1:${wsPort}; proxy_http_version 1.1; proxy_set_header Upgrade $http_upgrade; proxy_set_header Connection "upgrade"; proxy_read_timeout 3600s; }
  } }`;
  writeFileSync(join(dir, 'nginx.conf'), conf);
  const proc = spawn(
    hasBinary('nginx') ? 'nginx' : '/usr/sbin/nginx',
    ['-c', join(dir, 'nginx.conf'), '-p', dir, '-e', join(dir, 'error.log')],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let err = '';
  proc.stderr?.on('data', (d) => (err += d));
  for (let i = 0; ; i++) {
    const ok = await new Promise<boolean>((r) => {
      const c = connect(port, '127.0.0.1', () => (c.end(), r(true)));
      c.on('error', () => r(false));
    });
    if (ok) break;
    if (i > 100 || proc.exitCode !== null) throw new Error(`nginx did not start: ${err}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    port,
    assets: scripts + styles + images,
    bytes,
    async stop() {
      for (const c of wss.clients) c.terminate();
      wss.close();
      if (proc.exitCode === null) {
        proc.kill('SIGTERM');
        await new Promise((r) => proc.once('exit', r));
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
