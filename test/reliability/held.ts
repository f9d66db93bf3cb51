// Moved to bench/lib/held.ts (benchmarks share it and import nothing from test/).
export * from '../../bench/lib/held.js';
