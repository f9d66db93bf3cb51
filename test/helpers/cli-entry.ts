// Runs the CLI from source (tests use it so they exercise the code under test, not a stale build).
import { run } from '../../src/cli/main.js';
await run(process.argv);
