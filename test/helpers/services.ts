// Moved to bench/lib/services.ts (benchmarks share it and import nothing from test/).
export * from '../../bench/lib/services.js';
