// Socket tuning for the relay. ssh2 writes every SSH packet to the socket on its own; batching the
// packets made in one turn of the event loop into one writev means fewer system calls and segments.
import type { Socket } from 'node:net';

export function tuneSocket(sock: Socket): Socket {
  // Interactive keystrokes and small SFTP requests must not wait for Nagle.
  sock.setNoDelay(true);
  let corked = false;
  const uncork = () => {
    corked = false;
    sock.uncork();
  };
  const write = sock.write.bind(sock) as (...args: unknown[]) => boolean;
  sock.write = ((...args: unknown[]) => {
    if (!corked) {
      corked = true;
      sock.cork();
      process.nextTick(uncork);
    }
    return write(...args);
  }) as typeof sock.write;
  return sock;
}
