// Moved to bench/lib/api.ts (benchmarks share it and import nothing from test/).
export * from '../../bench/lib/api.js';
