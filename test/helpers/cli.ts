// Spawns the real `gatehouse` CLI as a separate process.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ENTRY = fileURLToPath(new URL('./cli-entry.ts', import.meta.url));
const BIN = fileURLToPath(new URL('../../bin/gatehouse.js', import.meta.url));

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function gh(args: string[], opts: { env: Record<string, string>; input?: string; bin?: boolean }): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const argv = opts.bin ? [BIN, ...args] : ['--import', 'tsx', ENTRY, ...args];
    const child = spawn(process.execPath, argv, { env: { ...process.env, ...opts.env }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    child.stdin.end(opts.input ?? '');
  });
}

/** Runs and parses --json output; throws with stderr on a non-zero exit. */
export async function ghJson<T = Record<string, unknown>>(
  args: string[],
  opts: { env: Record<string, string>; input?: string },
): Promise<T> {
  const r = await gh([...args, '--json'], opts);
  if (r.code !== 0) throw new Error(`gatehouse ${args.join(' ')} exited ${r.code}: ${r.stdout}${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}
