// Bundles the CLI into dist/cli-bundle/: a few files parse far faster than the ~600 modules they replace.
// Each command's dynamic imports become their own chunk, so --help loads no database code.
// Native and heavy packages stay external (loaded from node_modules when a command calls them), and so
// does the server (dist/main.js), which reads its web assets and templates relative to its own file.
import { build } from 'esbuild';
import { rmSync, writeFileSync } from 'node:fs';
import { resolve, sep } from 'node:path';
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

/**
 * Our code imports pg at module top (storage/db.ts), and pg loads net, tls, dns and crypto (~20 ms)
 * even when the database is SQLite. In the bundle, src/ gets a stand-in that requires pg (still bundled,
 * with the probe above answered) on first use of Pool or Client; type parsers set before are replayed.
 */
const lazyPg = {
  name: 'lazy-pg',
  setup(b) {
    b.onResolve({ filter: /^pg$/ }, (args) =>
      args.importer.includes(`${sep}src${sep}`) && !args.importer.includes('node_modules')
        ? { path: 'lazy-pg', namespace: 'lazy-pg' }
        : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'lazy-pg' }, () => ({
      resolveDir: resolve('.'),
      loader: 'js',
      contents: `let real = null;
const parsers = [];
const load = () => {
  if (!real) {
    real = require('pg');
    for (const a of parsers) real.types.setTypeParser(...a);
  }
  return real;
};
module.exports = {
  types: { setTypeParser: (...a) => (real ? real.types.setTypeParser(...a) : parsers.push(a)) },
  get Pool() { return load().Pool; },
  get Client() { return load().Client; },
};`,
    }));
  },
};

/**
 * better-sqlite3 is CommonJS: imported from ESM, Node reads and lexes it for named exports first. The
 * bundle requires it instead (the default export is module.exports either way).
 */
const requireSqlite = {
  name: 'require-sqlite',
  setup(b) {
    b.onResolve({ filter: /^better-sqlite3$/ }, (args) =>
      args.namespace === 'file' ? { path: 'better-sqlite3', namespace: 'require-sqlite' } : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'require-sqlite' }, () => ({
      resolveDir: resolve('.'),
      loader: 'js',
      contents: "module.exports = require('better-sqlite3');",
    }));
  },
};

/** commander requires child_process at load, for executable subcommands, which gatehouse has none of. */
const commanderSpawn = {
  name: 'commander-spawn',
  setup(b) {
    b.onLoad({ filter: /[\\/]commander[\\/]lib[\\/]command\.js$/ }, async (args) => {
      const src = await readFile(args.path, 'utf8');
      const line = "const childProcess = require('node:child_process');";
      if (!src.includes(line)) return { contents: src, loader: 'js', warnings: [{ text: `commander's child_process import changed` }] };
      const lazy = "const childProcess = { spawn: (...a) => require('node:child_process').spawn(...a) };";
      return { contents: src.replace(line, lazy), loader: 'js' };
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
  plugins: [serverExternal, pgNodeStreams, lazyPg, commanderSpawn, requireSqlite],
  metafile: true,
  logLevel: 'warning',
  banner: { js: "import { createRequire as __ghRequire } from 'node:module'; const require = __ghRequire(import.meta.url);" },
});
writeFileSync('dist/cli-bundle/meta.json', JSON.stringify(r.metafile));
