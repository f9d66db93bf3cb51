// Webhooks: endpoints (never their secret, except once when created) and the delivery log.
import { Type } from '@sinclair/typebox';
import { Nullable } from '../schema.js';

export const WebhookView = Type.Object({
  name: Type.String(),
  url: Type.String(),
  events: Type.Array(Type.String()),
  allowHttp: Type.Boolean(),
  createdAt: Type.String(),
  createdBy: Type.String(),
});

export const WebhookList = Type.Object({
  items: Type.Array(WebhookView),
  /** Every event type a webhook can subscribe to. */
  events: Type.Array(Type.String()),
});

export const NewWebhook = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 64 }),
    url: Type.String({ minLength: 1, maxLength: 2048 }),
    events: Type.Optional(Type.Array(Type.String({ maxLength: 64 }), { minItems: 1, maxItems: 30 })),
    /** Omit to have one generated. */
    secret: Type.Optional(Type.String({ minLength: 16, maxLength: 256 })),
    /** Plain http to 127.0.0.1, localhost or [::1] only. */
    allowHttp: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);

export const WebhookCreated = Type.Object({
  webhook: WebhookView,
  /** Shown in this response only: keep it to verify signatures. */
  secret: Type.String(),
  generated: Type.Boolean(),
});

export const WebhookDelivery = Type.Object({
  id: Type.Integer(),
  deliveryId: Type.String(),
  webhook: Type.String(),
  event: Type.String(),
  status: Type.Union([Type.Literal('queued'), Type.Literal('sending'), Type.Literal('delivered'), Type.Literal('failed')]),
  attempts: Type.Integer(),
  responseCode: Nullable(Type.Integer()),
  error: Nullable(Type.String()),
  nextAttemptAt: Nullable(Type.String()),
  createdAt: Nullable(Type.String()),
  deliveredAt: Nullable(Type.String()),
});

export const WebhookDeliveries = Type.Object({ items: Type.Array(WebhookDelivery), nextBeforeId: Nullable(Type.Integer()) });

export const WebhookByName = Type.Object({ name: Type.String({ minLength: 1, maxLength: 64 }) });

export const DeliveryQuery = Type.Object({
  webhook: Type.Optional(Type.String({ maxLength: 64 })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 50 })),
  beforeId: Type.Optional(Type.Integer({ minimum: 1 })),
});
