// Moved to bench/lib/peers.ts (benchmarks share it and import nothing from test/).
export * from '../../bench/lib/peers.js';
