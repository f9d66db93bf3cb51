// Moved to bench/lib/xrdp.ts (benchmarks share it and import nothing from test/).
export * from '../../bench/lib/xrdp.js';
