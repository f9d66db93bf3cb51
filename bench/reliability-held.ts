// Held waits, full form (issue 11): 2,000 SSH connections waiting for approval on one gateway process,
// then every request approved at once. Reports the time until all ran their command and the gateway's RSS.
// Run: npm run bench -- reliability-held      (BENCH_HELD_N, BENCH_HELD_DEVICES, BENCH_HELD_DB=postgres)
import { mkdirSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { heldWaits } from './lib/held.js';

const n = Number(process.env.BENCH_HELD_N ?? 2000);
const devices = Number(process.env.BENCH_HELD_DEVICES ?? 200);
const db = process.env.BENCH_HELD_DB === 'postgres' ? 'postgres' : 'sqlite';
// BENCH_HELD_DEVICE=sshd|ssh2 (default ssh2: the built-in demo target in its own process, so the figure
// is the gateway's; with sshd every session also costs the device a fork and a shell on the same cores).
const device = process.env.BENCH_HELD_DEVICE === 'sshd' ? 'sshd' : 'ssh2';
console.log(`device: ${device === 'sshd' ? 'OpenSSH sshd' : 'ssh2 demo target (own process)'}; database: ${db}`);
const f = await heldWaits(n, devices, db, (s) => console.log(s), device);
console.log(JSON.stringify({ ...f, failures: f.failures.slice(0, 5) }, null, 2));
mkdirSync(resolve('.bench-out'), { recursive: true });
writeFileSync(resolve('.bench-out/reliability-held.json'), JSON.stringify(f, null, 2));
console.log(f.failed === 0 && f.allThroughMs < 5000 ? 'PASS: all through within 5 s' : `FAIL: ${f.failed} failed, ${f.allThroughMs} ms`);
process.exit(0);
