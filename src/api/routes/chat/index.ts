// Chat approvals: settings for administrators, and the two public callbacks the chats make (Slack's
// interactions, Mattermost's button actions), each authenticated by its own signature, never a login.
import type { FastifyInstance } from 'fastify';
import { chatOff, setMattermost, setSlack, showChat } from '../../../notify/chat/settings.js';
import { Ok, errors } from '../schema.js';
import { actorOf, type Ctx } from '../context.js';
import { ChatProviderParam, ChatSettingsView, MattermostSettingsBody, SlackSettingsBody } from './schema.js';
import { slackInteractions } from './slack.js';
import { mattermostActions } from './mattermost.js';

export async function chatRoutes(app: FastifyInstance, ctx: Ctx) {
  const { s } = ctx;
  const view = async () => ({ slack: await showChat(s, 'slack'), mattermost: await showChat(s, 'mattermost') });
  app.get(
    '/chat',
    {
      schema: {
        tags: ['chat'],
        summary: 'Slack and Mattermost approvals: settings (never a token or secret)',
        response: { 200: ChatSettingsView, ...errors },
      },
    },
    view,
  );
  app.put(
    '/chat/slack',
    {
      schema: {
        tags: ['chat'],
        summary: "Set up Slack: the bot token and the app's signing secret",
        body: SlackSettingsBody,
        response: { 200: ChatSettingsView, ...errors },
      },
    },
    async (req) => {
      await setSlack(
        s,
        actorOf(req),
        req.body as { botToken: string; signingSecret: string; channel?: string | null; apiUrl?: string | null },
      );
      return view();
    },
  );
  app.put(
    '/chat/mattermost',
    {
      schema: {
        tags: ['chat'],
        summary: "Set up Mattermost: the server's URL and the bot's token",
        body: MattermostSettingsBody,
        response: { 200: ChatSettingsView, ...errors },
      },
    },
    async (req) => {
      await setMattermost(s, actorOf(req), req.body as { url: string; botToken: string; channel?: string | null });
      return view();
    },
  );
  app.delete(
    '/chat/:provider',
    {
      schema: {
        tags: ['chat'],
        summary: 'Turn a chat off (its messages are no longer sent or updated)',
        params: ChatProviderParam,
        response: { 200: Ok, ...errors },
      },
    },
    async (req) => {
      await chatOff(s, actorOf(req), (req.params as { provider: 'slack' | 'mattermost' }).provider);
      return { ok: true };
    },
  );
  await app.register(async (sub) => slackInteractions(sub, ctx));
  await app.register(async (sub) => mattermostActions(sub, ctx));
}
