// Moved to bench/lib/db.ts (benchmarks share it and import nothing from test/).
export * from '../../bench/lib/db.js';
