// Import cycles in src/ and web/src/, type-only imports included: eslint's import-x/no-cycle skips
// `import type`, yet a type cycle still ties two modules together. Exits 1 and prints each cycle.
// Run: node scripts/cycles.mjs   (part of npm run check)
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';

const roots = process.argv.slice(2).length ? process.argv.slice(2) : ['src', 'web/src'];

function walk(dir) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return name === 'dist' || name === 'node_modules' ? [] : walk(p);
    return /\.tsx?$/.test(name) && !name.endsWith('.d.ts') ? [resolve(p)] : [];
  });
}

// Relative specifiers only: `./x.js` names `./x.ts` (NodeNext), web/ may omit the extension.
function target(from, spec) {
  if (!spec.startsWith('.')) return null;
  const base = resolve(dirname(from), spec);
  const stem = base.replace(/\.(js|jsx|ts|tsx)$/, '');
  for (const c of [base, `${stem}.ts`, `${stem}.tsx`, join(base, 'index.ts'), join(base, 'index.tsx')]) {
    if (existsSync(c) && statSync(c).isFile()) return c;
  }
  return null;
}

const files = roots.flatMap(walk);
const edges = new Map();
for (const f of files) {
  const info = ts.preProcessFile(readFileSync(f, 'utf8'), true, true);
  edges.set(f, [...new Set(info.importedFiles.map((i) => target(f, i.fileName)).filter(Boolean))]);
}

// Tarjan's strongly connected components: every component of more than one file is a cycle.
let index = 0;
const idx = new Map();
const low = new Map();
const stack = [];
const onStack = new Set();
const cycles = [];
function connect(v) {
  idx.set(v, index);
  low.set(v, index++);
  stack.push(v);
  onStack.add(v);
  for (const w of edges.get(v) ?? []) {
    if (!edges.has(w)) continue;
    if (!idx.has(w)) {
      connect(w);
      low.set(v, Math.min(low.get(v), low.get(w)));
    } else if (onStack.has(w)) low.set(v, Math.min(low.get(v), idx.get(w)));
  }
  if (low.get(v) !== idx.get(v)) return;
  const scc = [];
  let w;
  do {
    w = stack.pop();
    onStack.delete(w);
    scc.push(w);
  } while (w !== v);
  if (scc.length > 1 || (edges.get(v) ?? []).includes(v)) cycles.push(scc);
}
for (const f of files) if (!idx.has(f)) connect(f);

for (const c of cycles)
  console.error(
    `import cycle: ${c
      .map((f) => relative('.', f))
      .sort()
      .join(' <-> ')}`,
  );
if (cycles.length) process.exit(1);
console.log(`no import cycles in ${files.length} files`);
