// Mattermost: a card as a message attachment with interactive buttons, and the REST API v4 calls the
// outbox makes. Each button's context carries the request id, the message's key and an HMAC of both
// (keyed by a server secret sealed in the vault), which Gatehouse checks when Mattermost calls back.
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { ChatApi, Recipient } from './api.js';
import { ChatApiError, scrub } from './api.js';
import type { Card } from './card.js';

const MAX_ANSWER = 1024 * 1024;

export interface ButtonContext {
  action: 'approve' | 'reject';
  request: number;
  key: string;
  sig: string;
}

export function contextSig(secret: string, action: string, request: number, key: string): string {
  return createHmac('sha256', secret).update(`mattermost:${action}:${request}:${key}`).digest('hex');
}

/** The context is Gatehouse's own, unchanged: its HMAC verifies in constant time. */
export function verifyContext(secret: string, c: unknown): c is ButtonContext {
  const x = c as Partial<ButtonContext> | null;
  if (!x || typeof x !== 'object' || (x.action !== 'approve' && x.action !== 'reject')) return false;
  if (!Number.isSafeInteger(x.request) || typeof x.key !== 'string' || typeof x.sig !== 'string' || x.key.length > 64) return false;
  const want = Buffer.from(contextSig(secret, x.action, x.request!, x.key));
  const got = Buffer.from(x.sig);
  return got.length === want.length && timingSafeEqual(got, want);
}

const md = (s: string) => s.replace(/([\\`*_{}[\]()#+\-!|>~])/g, '\\$1');

export function mattermostProps(c: Card, actionUrl: string, secret: string, key: string): Record<string, unknown> {
  const button = (action: 'approve' | 'reject', name: string, style: string) => ({
    id: action,
    name,
    style,
    integration: { url: actionUrl, context: { action, request: c.requestId, key, sig: contextSig(secret, action, c.requestId, key) } },
  });
  const link =
    c.actions === 'link'
      ? `You confirm decisions with a second factor or a passkey: [decide on the request page](${c.url}).`
      : `[Open in Gatehouse](${c.url})`;
  return {
    attachments: [
      {
        fallback: c.fallback.slice(0, 3000),
        title: c.title.slice(0, 200),
        text: `${md(c.state)}\n${link}`.slice(0, 4000),
        fields: c.fields.map(([k, v]) => ({ title: k, value: md(v), short: k !== 'Reason' && k !== 'Route' })),
        actions: c.actions === 'decide' ? [button('approve', 'Approve', 'success'), button('reject', 'Reject', 'danger')] : [],
      },
    ],
  };
}

export class MattermostApi implements ChatApi {
  private botId: string | null = null;
  constructor(
    private readonly base: string,
    private readonly token: string,
    private readonly secret: string,
    private readonly actionUrl: string,
    private readonly timeoutMs = 10_000,
  ) {}

  async call(method: string, path: string, body?: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
    let res: Response;
    try {
      res = await fetch(new URL(path, this.base.replace(/\/*$/, '/')), {
        method,
        redirect: 'manual',
        signal: AbortSignal.timeout(this.timeoutMs),
        headers: { authorization: `Bearer ${this.token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (err) {
      throw new ChatApiError(`mattermost ${method} ${path.split('/').slice(0, 4).join('/')}: ${scrub(err, [this.token])}`);
    }
    const text = await readCapped(res);
    let json: Record<string, unknown> = {};
    try {
      json = text ? (JSON.parse(text) as Record<string, unknown>) : {};
    } catch {
      /* a non-JSON answer is reported by its status below */
    }
    if (res.status === 404) return { status: 404, json };
    if (res.status < 200 || res.status >= 300)
      throw new ChatApiError(`mattermost ${method} ${path.split('/').slice(0, 4).join('/')}: HTTP ${res.status}`);
    return { status: res.status, json };
  }

  async userByEmail(email: string): Promise<string | null> {
    const r = await this.call('GET', `api/v4/users/email/${encodeURIComponent(email)}`);
    return r.status === 404 ? null : String(r.json.id ?? '') || null;
  }

  async emailOf(userId: string): Promise<string | null> {
    const r = await this.call('GET', `api/v4/users/${encodeURIComponent(userId)}`);
    return r.status === 404 || r.json.delete_at ? null : typeof r.json.email === 'string' ? r.json.email : null;
  }

  private async directChannel(userId: string): Promise<string> {
    this.botId ??= String((await this.call('GET', 'api/v4/users/me')).json.id ?? '');
    const r = await this.call('POST', 'api/v4/channels/direct', [this.botId, userId]);
    if (!r.json.id) throw new ChatApiError('mattermost channels/direct: no channel id');
    return String(r.json.id);
  }

  async post(to: Recipient, card: Card, key: string): Promise<{ channelId: string; messageId: string }> {
    const channelId = 'user' in to ? await this.directChannel(to.user) : to.channel;
    const r = await this.call('POST', 'api/v4/posts', {
      channel_id: channelId,
      message: '',
      props: mattermostProps(card, this.actionUrl, this.secret, key),
    });
    if (!r.json.id) throw new ChatApiError('mattermost posts: no post id');
    return { channelId, messageId: String(r.json.id) };
  }

  async update(_channelId: string, messageId: string, card: Card, key: string): Promise<void> {
    await this.call('PUT', `api/v4/posts/${encodeURIComponent(messageId)}`, {
      id: messageId,
      message: '',
      props: mattermostProps(card, this.actionUrl, this.secret, key),
    });
  }
}

async function readCapped(res: Response): Promise<string> {
  if (!res.body) return '';
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let n = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    n += value.length;
    if (n > MAX_ANSWER) {
      await reader.cancel();
      throw new ChatApiError('mattermost: answer too large');
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}
