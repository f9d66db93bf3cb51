// Which mail settings win: GATEHOUSE_SMTP_URL over the console's SMTP settings, and the start-up log
// line and the console's mail form (GET /mail-settings) say the same thing, without credentials.
import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import { saveMailSettings } from '../../src/notify/config.js';
import { startNotify } from '../../src/notify/index.js';
import { login, startServer, type Server } from '../api/helpers.js';

/** The start-up line of the mail service, captured from the logger. */
async function startupLine(srv: Server): Promise<string> {
  const log = srv.running.services.log as unknown as Record<'info' | 'warn', (...a: unknown[]) => void>;
  const lines: string[] = [];
  const keep = { info: log.info, warn: log.warn };
  log.info = (...a: unknown[]) => void lines.push(String(a.find((x) => typeof x === 'string')));
  log.warn = log.info;
  try {
    const n = await startNotify(srv.running.services);
    await n.close();
  } finally {
    Object.assign(log, keep);
  }
  const line = lines.find((l) => /^mail /.test(l));
  assert.ok(line, lines.join('\n'));
  return line;
}

describe('mail settings precedence', () => {
  const servers: Server[] = [];
  after(async () => {
    for (const s of servers) await s.stop();
  });

  test('without GATEHOUSE_SMTP_URL: off, then the console settings are used; log and form agree', async () => {
    const srv = await startServer('sqlite');
    servers.push(srv);
    assert.match(
      await startupLine(srv),
      /^mail is off: set the SMTP host in the console \(System Parameters > Mail\) or GATEHOUSE_SMTP_URL, which wins/,
    );
    await saveMailSettings(srv.running.services, {
      host: 'mail.example.com',
      port: 2587,
      user: 'gh',
      password: 'Console-S3cret',
      from: 'gh@example.com',
    });
    const line = await startupLine(srv);
    assert.match(line, /through the console's mail settings \(mail\.example\.com:2587\); GATEHOUSE_SMTP_URL, when set, wins/);
    const a = await login(srv.base, 'admin');
    const view = (await a.get('/api/v1/mail-settings')).body;
    assert.deepEqual([view.source.transport, view.source.from, view.source.summary], ['console', 'console', line]);
    assert.doesNotMatch(JSON.stringify(view) + line, /Console-S3cret/);
  });

  test('GATEHOUSE_SMTP_URL wins over saved console settings; the credentials never show', async () => {
    const srv = await startServer('sqlite', {
      GATEHOUSE_SMTP_URL: 'smtp://envuser:Env-S3cret@127.0.0.1:2525',
      GATEHOUSE_MAIL_FROM: 'env@example.com',
    });
    servers.push(srv);
    await saveMailSettings(srv.running.services, { host: 'mail.example.com', port: 2587, from: 'gh@example.com' });
    const line = await startupLine(srv);
    assert.match(
      line,
      /^mail goes out through GATEHOUSE_SMTP_URL \(127\.0\.0\.1:2525\): it wins over the SMTP settings saved in the console, which are ignored/,
    );
    const a = await login(srv.base, 'admin');
    const view = (await a.get('/api/v1/mail-settings')).body;
    assert.deepEqual(
      [view.environmentOverrides, view.source.transport, view.source.from, view.source.server],
      [true, 'environment', 'environment', '127.0.0.1:2525'],
    );
    assert.doesNotMatch(JSON.stringify(view) + line, /Env-S3cret|envuser/);
  });
});
