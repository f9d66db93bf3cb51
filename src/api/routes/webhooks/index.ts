// Webhooks, for administrators: add (the secret shown once), list, remove, test (a ping, answered with
// the receiver's status code) and the delivery log.
import type { FastifyInstance } from 'fastify';
import { addWebhook, presentDelivery, presentWebhook, removeWebhook, testWebhook } from '../../../notify/webhooks.js';
import { WEBHOOK_EVENTS } from '../../../notify/webhooks-events.js';
import { Ok, errors } from '../schema.js';
import { actorOf, nextBefore, type Ctx } from '../context.js';
import { DeliveryQuery, NewWebhook, WebhookByName, WebhookCreated, WebhookDeliveries, WebhookDelivery, WebhookList } from './schema.js';

export async function webhookRoutes(app: FastifyInstance, { s }: Ctx) {
  app.get(
    '/webhooks',
    {
      schema: {
        tags: ['webhooks'],
        summary: 'Webhooks (never their secret) and the event types they can carry',
        response: { 200: WebhookList, ...errors },
      },
    },
    async () => ({ items: (await s.webhooks.webhooks()).map(presentWebhook), events: WEBHOOK_EVENTS }),
  );
  app.post(
    '/webhooks',
    {
      schema: {
        tags: ['webhooks'],
        summary: 'Add a webhook; its signing secret is shown once, in this response',
        body: NewWebhook,
        response: { 201: WebhookCreated, ...errors },
      },
    },
    async (req, reply) => {
      const b = req.body as { name: string; url: string; events?: string[]; secret?: string; allowHttp?: boolean };
      const r = await addWebhook(s, actorOf(req), b);
      reply.header('cache-control', 'no-store');
      return reply.status(201).send({ webhook: presentWebhook(r.webhook), secret: r.secret, generated: r.generated });
    },
  );
  app.delete(
    '/webhooks/:name',
    {
      schema: {
        tags: ['webhooks'],
        summary: 'Remove a webhook; its undelivered deliveries are given up (the log keeps them)',
        params: WebhookByName,
        response: { 200: Ok, ...errors },
      },
    },
    async (req) => {
      await removeWebhook(s, actorOf(req), (req.params as { name: string }).name);
      return { ok: true };
    },
  );
  app.post(
    '/webhooks/:name/test',
    {
      schema: {
        tags: ['webhooks'],
        summary: 'Send a ping now (one attempt); the delivery, with the response code',
        params: WebhookByName,
        response: { 200: WebhookDelivery, ...errors },
      },
    },
    async (req) => presentDelivery(await testWebhook(s, (req.params as { name: string }).name)),
  );
  app.get(
    '/webhooks/deliveries',
    {
      schema: {
        tags: ['webhooks'],
        summary: 'Recent deliveries, newest first: status, response code, attempts, next retry',
        querystring: DeliveryQuery,
        response: { 200: WebhookDeliveries, ...errors },
      },
    },
    async (req) => {
      const q = req.query as { webhook?: string; limit?: number; beforeId?: number };
      const limit = q.limit ?? 50;
      const items = (await s.webhooks.deliveries({ webhook: q.webhook, limit, beforeId: q.beforeId })).map(presentDelivery);
      return { items, nextBeforeId: nextBefore(items, limit) };
    },
  );
}
