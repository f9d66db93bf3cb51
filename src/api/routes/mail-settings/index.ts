// The console's mail settings (SMTP host, port, TLS or STARTTLS, login, sender; the password sealed in
// the vault and never returned) and the outbox's state, for administrators.
import type { FastifyInstance } from 'fastify';
import { mailSource, readMailSettings, saveMailSettings } from '../../../notify/config.js';
import { outboxStats } from '../../../notify/outbox.js';
import { errors } from '../schema.js';
import { MailSettingsIn, MailSettingsView } from './schema.js';
import { actorOf, type Ctx } from '../context.js';

export async function mailSettingsRoutes(app: FastifyInstance, { s }: Ctx) {
  const view = async () => ({
    settings: await readMailSettings(s),
    environmentOverrides: !!s.config.smtpUrl,
    source: await mailSource(s),
    outbox: await outboxStats(s),
  });
  app.get(
    '/mail-settings',
    {
      schema: {
        tags: ['mail'],
        summary: 'Mail settings (never the password) and the outbox state',
        response: { 200: MailSettingsView, ...errors },
      },
    },
    view,
  );
  app.put(
    '/mail-settings',
    {
      schema: {
        tags: ['mail'],
        summary: 'Change the mail settings; they apply at the next start (GATEHOUSE_SMTP_URL wins when set)',
        body: MailSettingsIn,
        response: { 200: MailSettingsView, ...errors },
      },
    },
    async (req) => {
      const body = req.body as {
        host?: string;
        port?: number;
        security?: 'tls' | 'starttls' | 'none';
        user?: string;
        password?: string | null;
        from?: string;
      };
      await saveMailSettings(s, body);
      const a = actorOf(req);
      const { password, ...shown } = body;
      await s.audit({
        actor: a.username,
        actorId: a.id,
        channel: a.channel,
        action: 'mail.settings',
        details: { ...shown, password: password === undefined ? undefined : password === null ? '(cleared)' : '(changed)' },
      });
      return view();
    },
  );
}
