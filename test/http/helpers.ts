// Moved to bench/lib/http.ts (benchmarks share it and import nothing from test/).
export * from '../../bench/lib/http.js';
