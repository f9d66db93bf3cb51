// Webhook administration, shared by the CLI and the API: add (URL, events and secret checked; the secret
// sealed by the vault), list, remove, test (a ping sent now, through the delivery log), and deliveries.
import { randomBytes } from 'node:crypto';
import type { Actor } from '../core/admin/service.js';
import { GatehouseError } from '../core/errors.js';
import type { Delivery, Webhook } from '../core/ports/webhooks.js';
import type { Services } from '../services.js';
import { parsePatterns, pingEvent } from './webhooks-events.js';
import { deliverNow } from './webhooks-worker.js';

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);

export interface WebhookInput {
  name: string;
  url: string;
  events?: string | string[];
  /** Given by the operator; generated when absent. */
  secret?: string;
  /** Plain http, to 127.0.0.1 / localhost / [::1] only. */
  allowHttp?: boolean;
}

/** What an endpoint shows: never the secret. */
export function presentWebhook(w: Webhook) {
  return {
    name: w.name,
    url: w.url,
    events: w.events,
    allowHttp: w.allowHttp,
    createdAt: new Date(w.createdAt).toISOString(),
    createdBy: w.createdBy,
  };
}

export function presentDelivery(d: Delivery) {
  const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
  return {
    id: d.id,
    deliveryId: d.deliveryId,
    webhook: d.webhookName,
    event: d.eventType,
    status: d.status,
    attempts: d.attempts,
    responseCode: d.responseCode,
    error: d.lastError,
    nextAttemptAt: d.status === 'queued' ? iso(d.nextAttemptAt) : null,
    createdAt: iso(d.createdAt),
    deliveredAt: iso(d.deliveredAt),
  };
}

/** https anywhere; plain http only to this machine and only when allowed. No credentials, no fragment. */
export function checkUrl(raw: string, allowHttp: boolean): string {
  if (raw.length > 2048 || /[\s\u0000-\u001f\u007f]/.test(raw))
    throw new GatehouseError('invalid', 'url: at most 2048 characters, no spaces or control characters', 'url');
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new GatehouseError('invalid', 'url: not a URL', 'url');
  }
  if (u.username || u.password)
    throw new GatehouseError('invalid', 'url: no user or password in the URL (the signature authenticates Gatehouse)', 'url');
  if (u.hash) throw new GatehouseError('invalid', 'url: no #fragment', 'url');
  if (u.protocol === 'https:') return u.href;
  if (u.protocol === 'http:' && allowHttp && LOOPBACK.has(u.hostname)) return u.href;
  throw new GatehouseError(
    'invalid',
    u.protocol === 'http:'
      ? 'url: plain http is allowed only to 127.0.0.1, localhost or [::1], with --allow-http (API: allowHttp: true)'
      : 'url: must be https://',
    'url',
  );
}

function checkSecret(secret: string): string {
  if (secret.length < 16 || secret.length > 256 || /[\u0000-\u001f\u007f]/.test(secret))
    throw new GatehouseError('invalid', 'secret: 16 to 256 characters, no control characters', 'secret');
  return secret;
}

/** Adds an endpoint; the secret is returned only here (generated when not given), to show once. */
export async function addWebhook(
  s: Services,
  actor: Actor,
  input: WebhookInput,
): Promise<{ webhook: Webhook; secret: string; generated: boolean }> {
  if (!NAME.test(input.name)) throw new GatehouseError('invalid', 'name: 1-64 letters, digits, dot, dash or underscore', 'name');
  const url = checkUrl(input.url, !!input.allowHttp);
  const events = parsePatterns(input.events);
  const generated = input.secret === undefined;
  const secret = generated ? `whsec_${randomBytes(32).toString('base64url')}` : checkSecret(input.secret!);
  if (await s.webhooks.webhookByName(input.name)) throw new GatehouseError('conflict', `webhook '${input.name}' exists`, 'name');
  let webhook: Webhook;
  try {
    webhook = await s.webhooks.addWebhook({
      name: input.name,
      url,
      events,
      secretEnc: s.vault.seal(secret),
      allowHttp: !!input.allowHttp,
      createdAt: s.clock.now(),
      createdBy: actor.username,
    });
  } catch (err) {
    // Two adds of one name at once: the unique index decides.
    if (await s.webhooks.webhookByName(input.name)) throw new GatehouseError('conflict', `webhook '${input.name}' exists`, 'name');
    throw err;
  }
  await s.audit({
    actor: actor.username,
    actorId: actor.id ?? undefined,
    channel: actor.channel,
    action: 'webhook.add',
    targetType: 'webhook',
    targetId: input.name,
    details: { origin: new URL(url).origin, events, generatedSecret: generated },
  });
  return { webhook, secret, generated };
}

export async function removeWebhook(s: Services, actor: Actor, name: string): Promise<void> {
  if (!(await s.webhooks.removeWebhook(name))) throw new GatehouseError('not_found', `webhook '${name}' not found`);
  await s.audit({
    actor: actor.username,
    actorId: actor.id ?? undefined,
    channel: actor.channel,
    action: 'webhook.remove',
    targetType: 'webhook',
    targetId: name,
  });
}

/** Queues a ping for `name` and delivers it now, once: the answer's status (null when none) and the log row. */
export async function testWebhook(s: Services, name: string): Promise<Delivery> {
  const w = await s.webhooks.webhookByName(name);
  if (!w) throw new GatehouseError('not_found', `webhook '${name}' not found`);
  const now = s.clock.now();
  const deliveryId = `whd_${randomBytes(12).toString('hex')}`;
  const body = JSON.stringify(pingEvent(`evt_ping_${randomBytes(6).toString('hex')}`, w.name, now));
  const id = await s.webhooks.queueOne(
    { deliveryId, webhookId: w.id, webhookName: w.name, eventKey: `ping:${deliveryId}`, eventType: 'ping', body },
    Date.now(),
  );
  return deliverNow(s, id);
}
