#!/usr/bin/env -S node --max-semi-space-size=64
// The flag: V8's young generation may grow to 64 MiB per semi-space (see src/runtime.ts: far less garbage
// collection under HTTP proxy load). `npm start` passes the same; keep both in step with RUNTIME_FLAGS
// (test/unit/runtime.test.ts checks).
// Thin launcher: the compiled CLI lives in dist/ (built by `npm run build`, which `prepare` runs on `npm ci`).
// dist/cli-bundle/ starts fastest; it is used unless a later tsc build made it stale.
import { existsSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const entry = join(root, 'dist', 'cli', 'main.js');
const bundle = join(root, 'dist', 'cli-bundle', 'main.js');
if (!existsSync(entry)) {
  process.stderr.write('gatehouse: not built yet. Run `npm ci` (or `npm run build`) in ' + root + '\n');
  process.exit(1);
}
const fresh = statSync(bundle, { throwIfNoEntry: false })?.mtimeMs >= statSync(entry).mtimeMs;
const { run } = await import(fresh ? bundle : entry);
await run(process.argv);
