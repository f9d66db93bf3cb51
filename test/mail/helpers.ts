// Moved to bench/lib/mail.ts (benchmarks share it and import nothing from test/).
export * from '../../bench/lib/mail.js';
