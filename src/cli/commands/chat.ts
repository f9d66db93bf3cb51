// gatehouse chat slack|mattermost set|show|off: approvals in chat (docs/chat.md). Tokens and secrets are
// read from standard input only (never from arguments, which other users can see), sealed in the vault
// and never printed.
import type { Command } from 'commander';
import { GatehouseError } from '../../core/errors.js';
import { action, readStdin } from '../context.js';

const load = () => import('../../notify/chat/settings.js');

/** The secrets asked for, one a line, in the order given. */
async function stdinLines(names: string[]): Promise<string[]> {
  const lines = (await readStdin()).split(/\r?\n/);
  if (lines.length < names.length || names.some((_, i) => !lines[i].trim()))
    throw new GatehouseError('invalid', `expected on standard input, one a line: ${names.join(', then ')}`);
  return lines.slice(0, names.length).map((l) => l.trim());
}

function showText(v: Awaited<ReturnType<Awaited<ReturnType<typeof load>>['showChat']>>): string {
  if (!v.configured) return `${v.provider}: not set up (interactions URL to give it: ${v.interactionsUrl})`;
  return [
    `${v.provider}: on (${v.url})`,
    `channel: ${v.channel ?? '(direct messages only)'}`,
    `interactions URL: ${v.interactionsUrl}`,
    `outbox: ${v.outbox.queued} queued, ${v.outbox.failed} failed${v.outbox.lastError ? ` (last error: ${v.outbox.lastError})` : ''}`,
    `set by ${v.updatedBy} at ${v.updatedAt}`,
  ].join('\n');
}

function common(cmd: Command, provider: 'slack' | 'mattermost'): void {
  cmd
    .command('show')
    .description(`show the ${provider} settings (never the token or secret) and the outbox`)
    .action(
      action(async (ctx) => {
        const { showChat } = await load();
        const v = await showChat(await ctx.s(), provider);
        ctx.out(v, () => showText(v));
      }),
    );
  cmd
    .command('off')
    .description(`turn ${provider} approvals off (messages already posted stay as they are)`)
    .action(
      action(async (ctx) => {
        const { chatOff } = await load();
        await chatOff(await ctx.s(), await ctx.actor(), provider);
        ctx.out({ ok: true }, () => `${provider} approvals are off`);
      }),
    );
}

export function registerChat(program: Command): void {
  const chat = program.command('chat').description('approvals from Slack and Mattermost messages');
  const slack = chat.command('slack').description('Slack: approver DMs with Approve/Reject buttons');
  slack
    .command('set')
    .description('set up Slack; with both flags, stdin holds the bot token on line 1 and the signing secret on line 2')
    .option('--bot-token-stdin', 'read the bot token (xoxb-…) from standard input')
    .option('--signing-secret-stdin', "read the app's signing secret from standard input")
    .option('--channel <channel>', 'also post each request to this channel (#name or id)')
    .option('--api-url <url>', 'the Slack Web API base URL (default https://slack.com/api/)')
    .action(
      action(async (ctx, o: { botTokenStdin?: boolean; signingSecretStdin?: boolean; channel?: string; apiUrl?: string }) => {
        if (!o.botTokenStdin || !o.signingSecretStdin)
          throw new GatehouseError(
            'invalid',
            'give --bot-token-stdin and --signing-secret-stdin: both secrets come from standard input, one a line',
          );
        const [botToken, signingSecret] = await stdinLines(['the bot token', 'the signing secret']);
        const { setSlack, showChat } = await load();
        const s = await ctx.s();
        await setSlack(s, await ctx.actor(), { botToken, signingSecret, channel: o.channel, apiUrl: o.apiUrl });
        const v = await showChat(s, 'slack');
        ctx.out(v, () => showText(v));
      }),
    );
  common(slack, 'slack');
  const mm = chat.command('mattermost').description('Mattermost: approver DMs with interactive buttons');
  mm.command('set')
    .description("set up Mattermost; stdin holds the bot account's access token")
    .requiredOption('--url <url>', "the Mattermost server's URL (https://chat.example.com)")
    .option('--bot-token-stdin', "read the bot's access token from standard input")
    .option('--channel <id>', 'also post each request to this channel (its id)')
    .action(
      action(async (ctx, o: { url: string; botTokenStdin?: boolean; channel?: string }) => {
        if (!o.botTokenStdin) throw new GatehouseError('invalid', 'give --bot-token-stdin: the token comes from standard input');
        const [botToken] = await stdinLines(['the bot token']);
        const { setMattermost, showChat } = await load();
        const s = await ctx.s();
        await setMattermost(s, await ctx.actor(), { url: o.url, botToken, channel: o.channel });
        const v = await showChat(s, 'mattermost');
        ctx.out(v, () => showText(v));
      }),
    );
  common(mm, 'mattermost');
}
