// Moved to bench/lib/rdp.ts (benchmarks share it and import nothing from test/).
export * from '../../bench/lib/rdp.js';
