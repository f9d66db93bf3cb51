// Bundles the CLI into dist/cli-bundle/: a few files parse far faster than the ~600 modules they replace.
// Each command's dynamic imports become their own chunk, so --help loads no database code.
// Native and heavy packages stay external (loaded from node_modules when a command calls them), and so
// does the server (dist/main.js), which reads its web assets and templates relative to its own file.
import { build } from 'esbuild';
import { rmSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { readFile } from 'node:fs/promises';

const external = [
  'better-sqlite3',
  'pg-native',
  'ssh2',
  'cpu-features',
  '@node-rs/argon2',
  'fastify',
  '@fastify/*',
  'undici',
  'nodemailer',
  'imapflow',
  'ldapts',
  'mailparser',
  'smtp-server',
  'qrcode',
  'prom-client',
];

/** `import('../../main.js')` (serve, demo) loads the tsc output beside the bundle, not a bundled copy. */
const serverExternal = {
  name: 'server-external',
  setup(b) {
    const server = resolve('src/main.js');
    b.onResolve({ filter: /\/main\.js$/ }, (args) =>
      resolve(args.resolveDir, args.path) === server ? { path: '../main.js', external: true } : undefined,
    );
  },
};

/**
 * pg probes for Cloudflare Workers at load by constructing a `Response`, which on Node 20 loads undici
 * (~100 ms). Node is never a Worker, so the probe is answered at build time.
 */
const pgNodeStreams = {
  name: 'pg-node-streams',
  setup(b) {
    b.onLoad({ filter: /[\\/]pg[\\/]lib[\\/]stream\.js$/ }, async (args) => {
      const src = await readFile(args.path, 'utf8');
      const probe = 'if (isCloudflareRuntime()) {';
      if (!src.includes(probe))
        return { contents: src, loader: 'js', warnings: [{ text: `pg's Cloudflare probe changed: CLI start-up may load undici` }] };
      return { contents: src.replace(probe, 'if (false) {'), loader: 'js' };
    });
  },
};

rmSync('dist/cli-bundle', { recursive: true, force: true });
const r = await build({
  entryPoints: ['src/cli/main.ts'],
  outdir: 'dist/cli-bundle',
  splitting: true,
  chunkNames: 'chunk-[hash]',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  external,
  plugins: [serverExternal, pgNodeStreams],
  metafile: true,
  logLevel: 'warning',
  banner: { js: "import { createRequire as __ghRequire } from 'node:module'; const require = __ghRequire(import.meta.url);" },
});
writeFileSync('dist/cli-bundle/meta.json', JSON.stringify(r.metafile));
