// `gatehouse serve` in a child process that then throws from a timer, outside any handler: the test
// checks that the process logs it and exits non-zero (for its supervisor to restart it).
import { serve } from '../../src/main.js';

await serve();
setTimeout(() => {
  throw new Error('thrown outside every handler (test)');
}, 200);
