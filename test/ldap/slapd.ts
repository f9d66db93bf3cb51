// Moved to bench/lib/slapd.ts (benchmarks share it and import nothing from test/).
export * from '../../bench/lib/slapd.js';
