// Reference for bench/http.ts: a plain TCP relay written in Node (no HTTP parsing at all: each client
// connection gets its own connection to the upstream, bytes are piped both ways). It is the floor for
// any proxy written in Node on this machine: an HTTP proxy does this relay's work and parses on top.
import net from 'node:net';

const [upstream, port] = process.argv.slice(2).map(Number);
net
  .createServer((client) => {
    client.setNoDelay(true);
    const up = net.connect(upstream, '127.0.0.1');
    up.setNoDelay(true);
    client.pipe(up);
    up.pipe(client);
    client.on('error', () => up.destroy());
    up.on('error', () => client.destroy());
  })
  .listen(port, '127.0.0.1', () => process.send?.('ready'));
// Exit cleanly on a signal, so --cpu-prof writes its profile.
process.on('SIGINT', () => process.exit(0));
