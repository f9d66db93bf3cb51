// One worker of bench/http.ts's two-process run: a whole gateway whose HTTP proxy listens on the shared
// port (node:cluster hands every worker the same listening socket).
import { start } from '../src/main.js';

const g = await start(process.env);
process.send?.({ ready: g.httpProxyPort });
process.on('SIGTERM', () => void g.stop().then(() => process.exit(0)));
