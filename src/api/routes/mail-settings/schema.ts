// The console's mail settings (never the password) and the outbox's state.
import { Type } from '@sinclair/typebox';

const MailSettings = Type.Object({
  host: Type.Optional(Type.String()),
  port: Type.Optional(Type.Integer()),
  security: Type.Optional(Type.Union([Type.Literal('tls'), Type.Literal('starttls'), Type.Literal('none')])),
  user: Type.Optional(Type.String()),
  from: Type.Optional(Type.String()),
  hasPassword: Type.Optional(Type.Boolean()),
});
export const MailSettingsView = Type.Object({
  settings: MailSettings,
  /** GATEHOUSE_SMTP_URL is set: it wins over these settings. */
  environmentOverrides: Type.Boolean(),
  /** Which settings are in use (the environment wins), as the start-up log says it. */
  source: Type.Object({
    transport: Type.Union([Type.Literal('environment'), Type.Literal('console'), Type.Literal('off')]),
    from: Type.Union([Type.Literal('environment'), Type.Literal('console'), Type.Literal('default')]),
    server: Type.Union([Type.String(), Type.Null()]),
    summary: Type.String(),
  }),
  outbox: Type.Object({
    queued: Type.Number(),
    sending: Type.Number(),
    sent: Type.Number(),
    failed: Type.Number(),
    oldestUnsentSeconds: Type.Number(),
    lastError: Type.Union([Type.String(), Type.Null()]),
  }),
});
export const MailSettingsIn = Type.Object(
  {
    host: Type.Optional(Type.String({ minLength: 1, maxLength: 255, pattern: '^[A-Za-z0-9.:_\\[\\]-]+$' })),
    port: Type.Optional(Type.Integer({ minimum: 1, maximum: 65535 })),
    security: Type.Optional(Type.Union([Type.Literal('tls'), Type.Literal('starttls'), Type.Literal('none')])),
    user: Type.Optional(Type.String({ maxLength: 255 })),
    password: Type.Optional(Type.Union([Type.String({ maxLength: 1024 }), Type.Null()])),
    from: Type.Optional(Type.String({ maxLength: 320, pattern: '^[^\\r\\n]*$' })),
  },
  { additionalProperties: false },
);
