// Moved to bench/lib/wait.ts (benchmarks share it and import nothing from test/).
export * from '../../bench/lib/wait.js';
