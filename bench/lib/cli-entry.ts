// Runs the CLI from source, for node processes started by benchmarks and cluster tests.
import { run } from '../../src/cli/main.js';
await run(process.argv);
