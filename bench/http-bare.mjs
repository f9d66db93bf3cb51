// Reference for bench/http.ts: the least a Node proxy can do (undici Pool.stream, a cookie's presence
// checked, nothing else), to show what Gatehouse's gate and header work cost on top. Plain JavaScript,
// run by node itself, like the compiled gateway.
import { createServer } from 'node:http';
import { Pool } from 'undici';

const [upstream, port] = process.argv.slice(2).map(Number);
const pool = new Pool(`http://127.0.0.1:${upstream}`, { connections: 128 });
createServer((req, res) => {
  if (!(req.headers.cookie ?? '').includes('__gh_http=')) {
    res.statusCode = 403;
    return res.end();
  }
  pool.stream(
    { path: req.url ?? '/', method: 'GET', headers: { host: `127.0.0.1:${upstream}` }, opaque: res },
    ({ statusCode, headers, opaque }) => {
      opaque.writeHead(statusCode, headers);
      return opaque;
    },
    (err) => {
      if (err) res.destroy();
    },
  );
}).listen(port, '127.0.0.1', () => process.send?.('ready'));
// Exit cleanly on a signal, so --cpu-prof writes its profile.
process.on('SIGINT', () => process.exit(0));
