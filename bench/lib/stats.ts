// Order statistics and machine readings shared by the scale benchmarks.
import { loadavg } from 'node:os';

/** The q-quantile (0..1) of `xs`, nearest rank. */
export const pct = (xs: number[], q: number) => [...xs].sort((x, y) => x - y)[Math.min(xs.length - 1, Math.floor(q * xs.length))] ?? NaN;

export const median = (xs: number[]) => pct(xs, 0.5);

/** "load average 1.2 0.9 0.8": printed with every figure, since other work on the machine skews them. */
export const loadText = () =>
  `load average ${loadavg()
    .map((x) => x.toFixed(1))
    .join(' ')}`;
