// Runs the gatehouse CLI from the sources (no build needed): node --import tsx test/ssh/cli.ts <args>.
import { run } from '../../src/cli/main.js';

await run(process.argv);
