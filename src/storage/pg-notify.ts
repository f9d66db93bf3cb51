// PostgreSQL LISTEN/NOTIFY: wakes the event bus the moment another node commits an event, instead of at
// the next poll. Polling stays on as the safety net, and after every (re)connect the bus reads what it
// may have missed, so a dropped notification connection loses nothing.
import pg from 'pg';

export const EVENTS_CHANNEL = 'gatehouse_events';

export interface PgListener {
  close(): Promise<void>;
  /** Connected and listening right now. */
  readonly connected: boolean;
}

export function startPgListener(url: string, wake: () => void, onError: (err: unknown) => void): PgListener {
  let client: pg.Client | null = null;
  let closed = false;
  let connected = false;
  let retry: NodeJS.Timeout | null = null;
  let backoff = 100;

  const connect = async () => {
    if (closed) return;
    const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
    client = c;
    c.on('notification', () => wake());
    c.on('error', (err) => {
      onError(err);
      reconnect();
    });
    c.on('end', () => reconnect());
    try {
      await c.connect();
      await c.query(`LISTEN ${EVENTS_CHANNEL}`);
      connected = true;
      backoff = 100;
      wake(); // catch up on anything committed while we were not listening
    } catch (err) {
      onError(err);
      reconnect();
    }
  };

  const reconnect = () => {
    connected = false;
    if (closed || retry) return;
    const old = client;
    client = null;
    old?.removeAllListeners();
    old?.on('error', () => {});
    void old?.end().catch(() => {});
    retry = setTimeout(() => {
      retry = null;
      void connect();
    }, backoff);
    retry.unref();
    backoff = Math.min(backoff * 2, 5000);
  };

  void connect();
  return {
    get connected() {
      return connected;
    },
    async close() {
      closed = true;
      if (retry) clearTimeout(retry);
      const c = client;
      client = null;
      c?.removeAllListeners();
      c?.on('error', () => {});
      await c?.end().catch(() => {});
    },
  };
}
