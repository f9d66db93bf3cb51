// Chat settings, shared by the CLI and the API: set (tokens checked, sealed by the vault), show (never a
// secret), off; and the API client each provider's settings make.
import { randomBytes } from 'node:crypto';
import type { Actor } from '../../core/admin/service.js';
import { GatehouseError } from '../../core/errors.js';
import type { ChatProvider, ChatSettings } from '../../core/ports/chat.js';
import type { Services } from '../../services.js';
import { checkUrl } from '../webhooks.js';
import type { ChatApi } from './api.js';
import { MattermostApi } from './mattermost.js';
import { DEFAULT_SLACK_API, SlackApi } from './slack.js';

export interface SlackInput {
  botToken: string;
  signingSecret: string;
  channel?: string | null;
  /** The Web API's base URL (default https://slack.com/api/); http only to this machine. */
  apiUrl?: string | null;
}

export interface MattermostInput {
  url: string;
  botToken: string;
  channel?: string | null;
}

const TOKEN = /^[A-Za-z0-9_-]{16,255}$/;
const SLACK_CHANNEL = /^(#[a-z0-9][a-z0-9_.-]{0,79}|[CGD][A-Z0-9]{6,30})$/;
const MM_CHANNEL = /^[a-z0-9]{26}$/;

function check(value: string, ok: boolean, field: string, what: string): string {
  if (!ok) throw new GatehouseError('invalid', `${field}: ${what}`, field);
  return value;
}

const url = (raw: string, field: string) => {
  try {
    return checkUrl(raw, true);
  } catch (err) {
    throw new GatehouseError('invalid', (err as Error).message.replace(/^url:/, `${field}:`), field);
  }
};

export const interactionsUrl = (s: Services, p: ChatProvider) =>
  `${s.config.publicUrl}/api/v1/chat/${p === 'slack' ? 'slack/interactions' : 'mattermost/actions'}`;

async function save(s: Services, actor: Actor, row: Omit<ChatSettings, 'updatedAt' | 'updatedBy'>, details: Record<string, unknown>) {
  await s.chat.saveSettings({ ...row, updatedAt: s.clock.now(), updatedBy: actor.username });
  await s.audit({
    actor: actor.username,
    actorId: actor.id ?? undefined,
    channel: actor.channel,
    action: 'chat.set',
    targetType: 'chat',
    targetId: row.provider,
    details,
  });
}

export async function setSlack(s: Services, actor: Actor, i: SlackInput): Promise<void> {
  const token = check(
    i.botToken.trim(),
    /^xox[a-z]-[A-Za-z0-9-]{8,250}$/.test(i.botToken.trim()),
    'botToken',
    'a Slack bot token (xoxb-…)',
  );
  const secret = check(
    i.signingSecret.trim(),
    TOKEN.test(i.signingSecret.trim()),
    'signingSecret',
    "the app's signing secret (16-255 letters and digits)",
  );
  const channel = i.channel ? check(i.channel, SLACK_CHANNEL.test(i.channel), 'channel', '#name (lower case) or a channel id') : null;
  const apiUrl = i.apiUrl ? url(i.apiUrl.endsWith('/') ? i.apiUrl : `${i.apiUrl}/`, 'apiUrl') : null;
  await save(
    s,
    actor,
    { provider: 'slack', apiUrl, channel, botTokenEnc: s.vault.seal(token), secretEnc: s.vault.seal(secret) },
    { channel, apiUrl: apiUrl ?? DEFAULT_SLACK_API },
  );
}

export async function setMattermost(s: Services, actor: Actor, i: MattermostInput): Promise<void> {
  const base = url(i.url, 'url');
  const token = check(i.botToken.trim(), TOKEN.test(i.botToken.trim()), 'botToken', "the bot account's access token");
  const channel = i.channel ? check(i.channel, MM_CHANNEL.test(i.channel), 'channel', 'a channel id (26 letters and digits)') : null;
  // The key of the buttons' context HMAC: Gatehouse's own, never shown.
  const secret = randomBytes(32).toString('base64url');
  await save(
    s,
    actor,
    { provider: 'mattermost', apiUrl: base, channel, botTokenEnc: s.vault.seal(token), secretEnc: s.vault.seal(secret) },
    { channel, url: base },
  );
}

export async function chatOff(s: Services, actor: Actor, provider: ChatProvider): Promise<void> {
  if (!(await s.chat.removeSettings(provider))) throw new GatehouseError('not_found', `${provider} is not set up`);
  await s.audit({
    actor: actor.username,
    actorId: actor.id ?? undefined,
    channel: actor.channel,
    action: 'chat.off',
    targetType: 'chat',
    targetId: provider,
  });
}

/** What `chat <provider> show` and the console show: never a token or secret. */
export async function showChat(s: Services, provider: ChatProvider) {
  const row = (await s.chat.settings()).find((x) => x.provider === provider);
  if (!row) return { provider, configured: false as const, interactionsUrl: interactionsUrl(s, provider) };
  const q = await s.chat.stats(provider);
  return {
    provider,
    configured: true as const,
    url: provider === 'slack' ? (row.apiUrl ?? DEFAULT_SLACK_API) : row.apiUrl,
    channel: row.channel,
    interactionsUrl: interactionsUrl(s, provider),
    updatedAt: new Date(row.updatedAt).toISOString(),
    updatedBy: row.updatedBy,
    outbox: q,
  };
}

export interface Provider {
  settings: ChatSettings;
  api: ChatApi;
  /** Slack's signing secret, or Mattermost's context key. */
  secret: string;
}

export function providerOf(s: Services, row: ChatSettings): Provider {
  const token = s.vault.open(row.botTokenEnc);
  const secret = s.vault.open(row.secretEnc);
  const api =
    row.provider === 'slack'
      ? new SlackApi(token, row.apiUrl)
      : new MattermostApi(row.apiUrl ?? '', token, secret, interactionsUrl(s, 'mattermost'));
  return { settings: row, api, secret };
}

export async function providerNamed(s: Services, p: ChatProvider): Promise<Provider | undefined> {
  const row = (await s.chat.settings()).find((x) => x.provider === p);
  return row ? providerOf(s, row) : undefined;
}
