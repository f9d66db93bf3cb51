// The Node runtime settings Gatehouse is meant to run with. The launcher (bin/gatehouse.js, its shebang)
// and `npm start` pass them to node; `start()` logs what the process really got, so an operator who runs
// dist/ some other way sees it.
//
// --max-semi-space-size=64: V8's young generation may grow to 64 MiB per semi-space (default 16), so the
// HTTP proxy's short-lived per-request objects cost fewer scavenges of this large heap, at up to 128 MiB
// more memory under load (figures: docs/benchmarks.md).

/** The flag, as the launcher passes it. */
export const RUNTIME_FLAGS = ['--max-semi-space-size=64'] as const;

/** The semi-space limit this process was started with, in MiB (from node's arguments or NODE_OPTIONS); null when left at V8's default. */
export function semiSpaceMb(
  execArgv: readonly string[] = process.execArgv,
  nodeOptions: string = process.env.NODE_OPTIONS ?? '',
): number | null {
  let mb: number | null = null;
  const args = [...nodeOptions.split(/\s+/), ...execArgv];
  for (let i = 0; i < args.length; i++) {
    const m = /^--max[-_]semi[-_]space[-_]size(?:=(\d+))?$/.exec(args[i]);
    if (!m) continue;
    const v = Number(m[1] ?? args[i + 1]);
    if (Number.isFinite(v) && v > 0) mb = v;
  }
  return mb;
}
