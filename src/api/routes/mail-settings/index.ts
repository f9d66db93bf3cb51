// The console's mail settings (SMTP host, port, TLS or STARTTLS, login, sender; the password sealed in
// the vault and never returned) and the outbox's state, for administrators.
import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import { readMailSettings, saveMailSettings } from '../../../notify/config.js';
import { outboxStats } from '../../../notify/outbox.js';
import { errors } from '../../schemas.js';
import { actorOf, type Ctx } from '../context.js';

const Settings = Type.Object({
  host: Type.Optional(Type.String()),
  port: Type.Optional(Type.Integer()),
  security: Type.Optional(Type.Union([Type.Literal('tls'), Type.Literal('starttls'), Type.Literal('none')])),
  user: Type.Optional(Type.String()),
  from: Type.Optional(Type.String()),
  hasPassword: Type.Optional(Type.Boolean()),
});
const View = Type.Object({
  settings: Settings,
  /** GATEHOUSE_SMTP_URL is set: it wins over these settings. */
  environmentOverrides: Type.Boolean(),
  outbox: Type.Object({ queued: Type.Number(), sending: Type.Number(), sent: Type.Number(), failed: Type.Number(), oldestUnsentSeconds: Type.Number(), lastError: Type.Union([Type.String(), Type.Null()]) }),
});

export async function mailSettingsRoutes(app: FastifyInstance, { s }: Ctx) {
  const view = async () => ({ settings: await readMailSettings(s), environmentOverrides: !!s.config.smtpUrl, outbox: await outboxStats(s) });
  app.get('/mail-settings', { schema: { tags: ['mail'], summary: 'Mail settings (never the password) and the outbox state', response: { 200: View, ...errors } } }, view);
  app.put(
    '/mail-settings',
    {
      schema: {
        tags: ['mail'],
        summary: 'Change the mail settings; they apply at the next start (GATEHOUSE_SMTP_URL wins when set)',
        body: Type.Object(
          {
            host: Type.Optional(Type.String({ minLength: 1, maxLength: 255, pattern: '^[A-Za-z0-9.:_\\[\\]-]+$' })),
            port: Type.Optional(Type.Integer({ minimum: 1, maximum: 65535 })),
            security: Type.Optional(Type.Union([Type.Literal('tls'), Type.Literal('starttls'), Type.Literal('none')])),
            user: Type.Optional(Type.String({ maxLength: 255 })),
            password: Type.Optional(Type.Union([Type.String({ maxLength: 1024 }), Type.Null()])),
            from: Type.Optional(Type.String({ maxLength: 320, pattern: '^[^\\r\\n]*$' })),
          },
          { additionalProperties: false },
        ),
        response: { 200: View, ...errors },
      },
    },
    async (req) => {
      const body = req.body as { host?: string; port?: number; security?: 'tls' | 'starttls' | 'none'; user?: string; password?: string | null; from?: string };
      await saveMailSettings(s, body);
      const a = actorOf(req);
      const { password, ...shown } = body;
      await s.audit({ actor: a.username, actorId: a.id, channel: a.channel, action: 'mail.settings', details: { ...shown, password: password === undefined ? undefined : password === null ? '(cleared)' : '(changed)' } });
      return view();
    },
  );
}
