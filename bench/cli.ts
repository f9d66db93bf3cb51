// CLI start-up: the median of 20 runs of `node bin/gatehouse.js approvals list`, `--help` and
// `policy explain` against a seeded SQLite data dir, beside `node -e 0` in the same rounds.
// Targets: <= 150 ms median and <= 3x bare node. The ratio is the figure that survives a busy machine.
// Run: npm run build (tsc, then build:cli for the bundle bin/gatehouse.js prefers), then npm run bench -- cli [runs]
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../src/config/env.js';
import { makeLogger } from '../src/log.js';
import { ensureAdmin, openServices, SYSTEM_ACTOR } from '../src/services.js';

const RUNS = Number(process.argv[2] ?? 20);
const BIN = join('bin', 'gatehouse.js');
const ENTRY = join('dist', 'cli', 'main.js');
const BUNDLE = join('dist', 'cli-bundle', 'main.js');
const TARGET_MS = 150;
const TARGET_RATIO = 3;

/** The newest .ts under dir, to warn when dist/ is older than the source it was built from. */
function newestSource(dir: string): number {
  let newest = 0;
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    const st = statSync(p);
    if (st.isDirectory()) newest = Math.max(newest, newestSource(p));
    else if (name.endsWith('.ts')) newest = Math.max(newest, st.mtimeMs);
  }
  return newest;
}

/** A small organisation: alice needs bob's approval for ten devices, with a few requests waiting. */
async function seed(env: Record<string, string>): Promise<void> {
  const s = await openServices(loadConfig(env), makeLogger('silent'));
  try {
    await ensureAdmin(s);
    const a = SYSTEM_ACTOR;
    await s.admin.addUser(a, { username: 'bob', email: 'bob@example.com', password: 'Bob-bench-pass-1' });
    await s.admin.addUser(a, { username: 'alice', email: 'alice@example.com', password: 'Alice-bench-pass-1', manager: 'bob' });
    await s.admin.addGroup(a, 'user', 'ops', { managers: ['bob'], requireApproval: true });
    await s.admin.addMember(a, 'ops', 'alice');
    await s.admin.addGroup(a, 'device', 'linux', {});
    await s.admin.grantAccess(a, 'ops', 'linux', 'ssh,sftp');
    for (let i = 1; i <= 10; i++) {
      const name = `web${String(i).padStart(2, '0')}`;
      await s.admin.addDevice(a, { name, host: `10.0.0.${i}`, port: 22, protocols: 'ssh,sftp', group: 'linux' });
      await s.admin.addAccount(a, name, 'root', { password: 'Dev1ce-bench-secret' }, true);
      await s.approvals.request({ username: 'alice', device: name, protocol: 'ssh', reason: `bench ${i}`, channel: 'cli' });
    }
  } finally {
    await s.close();
  }
}

/** Wall time of one process run, in ms; a failed command fails the benchmark (its figure would lie). */
function time(args: string[], env: NodeJS.ProcessEnv): number {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const ms = performance.now() - t0;
  if (r.status !== 0) throw new Error(`node ${args.join(' ')} exited ${r.status}: ${r.stderr.toString()}`);
  return ms;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((x, y) => x - y);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const fmtLoad = () =>
  loadavg()
    .map((x) => x.toFixed(2))
    .join(' ');

async function main(): Promise<void> {
  if (!existsSync(ENTRY)) throw new Error(`${ENTRY} is missing: run npm run build (or npx tsc -p tsconfig.build.json) first`);
  if (newestSource('src') > statSync(ENTRY).mtimeMs) console.warn(`warning: src/ is newer than ${ENTRY}; rebuild for current figures`);
  if (!existsSync(BUNDLE) || statSync(BUNDLE).mtimeMs < statSync(ENTRY).mtimeMs)
    console.warn(`warning: ${BUNDLE} is missing or older than ${ENTRY}: these are the unbundled CLI's figures (npm run build:cli)`);
  const dir = mkdtempSync(join(tmpdir(), 'gh-bench-cli-'));
  const env: Record<string, string> = {
    GATEHOUSE_DATA_DIR: join(dir, 'data'),
    GATEHOUSE_SECRET_KEY: 'bench-key-0123456789abcdef',
    GATEHOUSE_LOG_LEVEL: 'warn',
  };
  try {
    await seed(env);
    const childEnv = { ...process.env, ...env };
    delete childEnv.DATABASE_URL;
    const cases: [string, string[]][] = [
      ['node -e 0', ['-e', '0']],
      ['approvals list', [BIN, 'approvals', 'list']],
      ['--help', [BIN, '--help']],
      ['policy explain alice web01', [BIN, 'policy', 'explain', 'alice', 'web01']],
    ];
    const samples = new Map(cases.map(([name]) => [name, [] as number[]]));
    const loadBefore = fmtLoad();
    // Warm the page cache once, then interleave the cases so a change of load hits them all alike.
    for (const [, args] of cases) time(args, childEnv);
    for (let i = 0; i < RUNS; i++) for (const [name, args] of cases) samples.get(name)!.push(time(args, childEnv));
    const bare = median(samples.get('node -e 0')!);
    console.log(
      `CLI start-up, median of ${RUNS} runs (node ${process.version}, ${cpus().length} CPUs, load average ${loadBefore} before, ${fmtLoad()} after)`,
    );
    console.log(`${'command'.padEnd(30)} ${'median ms'.padStart(10)} ${'x bare'.padStart(8)}  target`);
    for (const [name] of cases) {
      const m = median(samples.get(name)!);
      const ratio = m / bare;
      const verdict =
        name === 'node -e 0'
          ? ''
          : m <= TARGET_MS && ratio <= TARGET_RATIO
            ? 'met'
            : ratio <= TARGET_RATIO
              ? `ratio met, over ${TARGET_MS} ms`
              : 'NOT met';
      console.log(`${name.padEnd(30)} ${m.toFixed(0).padStart(10)} ${ratio.toFixed(2).padStart(8)}  ${verdict}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
