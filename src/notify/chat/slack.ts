// Slack: Block Kit rendering of a card and the Web API calls (through @slack/web-api) the outbox makes.
// Retries are the outbox's (durable, with backoff), so the client itself never retries or waits.
import { WebClient, type Logger, LogLevel } from '@slack/web-api';
import type { ChatApi, Recipient } from './api.js';
import { ChatApiError, scrub } from './api.js';
import type { Card } from './card.js';

export const APPROVE = 'gatehouse_approve';
export const REJECT = 'gatehouse_reject';
export const OPEN = 'gatehouse_open';
export const REJECT_VIEW = 'gatehouse_reject_comment';
export const DEFAULT_SLACK_API = 'https://slack.com/api/';

/** Slack's mrkdwn treats &, < and > as markup: user text is escaped as Slack documents. */
export const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const cut = (s: string, n: number) => (s.length > n ? `${s.slice(0, n - 1)}…` : s);

/** A card as Block Kit (header, fields, state, buttons), inside Slack's documented text limits. */
export function slackBlocks(c: Card): Record<string, unknown>[] {
  const blocks: Record<string, unknown>[] = [
    { type: 'header', text: { type: 'plain_text', text: cut(c.title, 150), emoji: true } },
    {
      type: 'section',
      fields: c.fields.slice(0, 10).map(([k, v]) => ({ type: 'mrkdwn', text: cut(`*${k}*\n${esc(v)}`, 2000) })),
    },
    { type: 'section', text: { type: 'mrkdwn', text: cut(esc(c.state), 3000) } },
  ];
  const open = { type: 'button', action_id: OPEN, text: { type: 'plain_text', text: 'Open in Gatehouse' }, url: c.url };
  if (c.actions === 'decide')
    blocks.push({
      type: 'actions',
      block_id: `gatehouse_${c.requestId}`,
      elements: [
        { type: 'button', action_id: APPROVE, style: 'primary', text: { type: 'plain_text', text: 'Approve' }, value: String(c.requestId) },
        { type: 'button', action_id: REJECT, style: 'danger', text: { type: 'plain_text', text: 'Reject' }, value: String(c.requestId) },
        open,
      ],
    });
  else if (c.actions === 'link') {
    blocks.push({
      type: 'context',
      elements: [{ type: 'mrkdwn', text: 'You confirm decisions with a second factor or a passkey: decide on the request page.' }],
    });
    blocks.push({ type: 'actions', block_id: `gatehouse_${c.requestId}`, elements: [{ ...open, style: 'primary' }] });
  } else blocks.push({ type: 'actions', block_id: `gatehouse_${c.requestId}`, elements: [open] });
  return blocks;
}

/** The modal a Reject click opens: one comment field; private_metadata carries the request id only. */
export function rejectModal(requestId: number, required: boolean): Record<string, unknown> {
  return {
    type: 'modal',
    callback_id: REJECT_VIEW,
    private_metadata: String(requestId),
    title: { type: 'plain_text', text: 'Reject request' },
    submit: { type: 'plain_text', text: 'Reject' },
    close: { type: 'plain_text', text: 'Cancel' },
    blocks: [
      {
        type: 'input',
        block_id: 'comment',
        optional: !required,
        label: { type: 'plain_text', text: `Why reject request #${requestId}? The requester reads it.` },
        element: { type: 'plain_text_input', action_id: 'comment', multiline: true, max_length: 1000 },
      },
    ],
  };
}

const quiet: Logger = {
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: () => {},
  setLevel: () => {},
  getLevel: () => LogLevel.ERROR,
  setName: () => {},
};

/** Slack's answers for a user it does not know (users.lookupByEmail; users.info): permanent, not an outage. */
const UNKNOWN_USER = new Set(['users_not_found', 'user_not_found', 'user_not_visible']);

export class SlackApi implements ChatApi {
  readonly client: WebClient;
  constructor(
    private readonly token: string,
    apiUrl: string | null,
    timeoutMs = 10_000,
  ) {
    this.client = new WebClient(token, {
      slackApiUrl: apiUrl ?? DEFAULT_SLACK_API,
      retryConfig: { retries: 0 },
      rejectRateLimitedCalls: true,
      allowAbsoluteUrls: false,
      timeout: timeoutMs,
      logger: quiet,
    });
  }

  private async call<T>(what: string, f: () => Promise<T>): Promise<T> {
    try {
      return await f();
    } catch (err) {
      const code = (err as { data?: { error?: string } }).data?.error;
      throw new ChatApiError(`slack ${what}: ${code ?? scrub(err, [this.token])}`, code !== undefined && UNKNOWN_USER.has(code));
    }
  }

  async userByEmail(email: string): Promise<string | null> {
    try {
      const r = await this.call('users.lookupByEmail', () => this.client.users.lookupByEmail({ email }));
      return r.user?.id ?? null;
    } catch (err) {
      if (err instanceof ChatApiError && err.permanent) return null;
      throw err;
    }
  }

  async emailOf(userId: string): Promise<string | null> {
    const r = await this.call('users.info', () => this.client.users.info({ user: userId }));
    return r.user?.deleted ? null : (r.user?.profile?.email ?? null);
  }

  async post(to: Recipient, card: Card): Promise<{ channelId: string; messageId: string }> {
    const channel = 'user' in to ? to.user : to.channel;
    const r = await this.call('chat.postMessage', () =>
      this.client.chat.postMessage({
        channel,
        text: esc(card.fallback).slice(0, 3000),
        blocks: slackBlocks(card) as never,
        unfurl_links: false,
      }),
    );
    if (!r.channel || !r.ts) throw new ChatApiError('slack chat.postMessage: no channel or ts in the answer');
    return { channelId: r.channel, messageId: r.ts };
  }

  async update(channelId: string, messageId: string, card: Card): Promise<void> {
    await this.call('chat.update', () =>
      this.client.chat.update({
        channel: channelId,
        ts: messageId,
        text: esc(card.fallback).slice(0, 3000),
        blocks: slackBlocks(card) as never,
      }),
    );
  }

  async openModal(triggerId: string, view: Record<string, unknown>): Promise<void> {
    await this.call('views.open', () => this.client.views.open({ trigger_id: triggerId, view: view as never }));
  }
}
