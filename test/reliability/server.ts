// Moved to bench/lib/server.ts (benchmarks share it and import nothing from test/).
export * from '../../bench/lib/server.js';
