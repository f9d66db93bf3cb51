// Re-exports bench/lib/ssh.ts: benchmarks share it and import nothing from test/.
export * from '../../bench/lib/ssh.js';
