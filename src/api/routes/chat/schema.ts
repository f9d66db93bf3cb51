// Chat approvals' settings (never a token or secret) and the bodies that set them.
import { Type } from '@sinclair/typebox';
import { Nullable } from '../schema.js';

export const ChatProviderView = Type.Object({
  provider: Type.String(),
  configured: Type.Boolean(),
  url: Type.Optional(Nullable(Type.String())),
  channel: Type.Optional(Nullable(Type.String())),
  /** Where the chat calls back: Slack's Interactivity Request URL, Mattermost's integration URL. */
  interactionsUrl: Type.String(),
  updatedAt: Type.Optional(Type.String()),
  updatedBy: Type.Optional(Type.String()),
  outbox: Type.Optional(Type.Object({ queued: Type.Integer(), failed: Type.Integer(), lastError: Nullable(Type.String()) })),
});

export const ChatSettingsView = Type.Object({ slack: ChatProviderView, mattermost: ChatProviderView });

export const SlackSettingsBody = Type.Object(
  {
    botToken: Type.String({ minLength: 1, maxLength: 300 }),
    signingSecret: Type.String({ minLength: 1, maxLength: 300 }),
    channel: Type.Optional(Nullable(Type.String({ maxLength: 100 }))),
    /** The Web API's base URL; omit for https://slack.com/api/. */
    apiUrl: Type.Optional(Nullable(Type.String({ maxLength: 2048 }))),
  },
  { additionalProperties: false },
);

export const MattermostSettingsBody = Type.Object(
  {
    url: Type.String({ minLength: 1, maxLength: 2048 }),
    botToken: Type.String({ minLength: 1, maxLength: 300 }),
    channel: Type.Optional(Nullable(Type.String({ maxLength: 100 }))),
  },
  { additionalProperties: false },
);

export const ChatProviderParam = Type.Object({ provider: Type.Union([Type.Literal('slack'), Type.Literal('mattermost')]) });
