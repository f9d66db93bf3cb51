// gatehouse webhook add|list|remove|test|deliveries: signed webhooks from the durable outbox (docs/webhooks.md).
import type { Command } from 'commander';
import { action, readStdin, table } from '../context.js';

const load = () => import('../../notify/webhooks.js');

export function registerWebhooks(program: Command): void {
  const wh = program.command('webhook').description('signed webhooks: events sent as JSON to other tools');
  wh.command('add <name>')
    .description('add a webhook; prints its signing secret once (generated unless --secret-stdin)')
    .requiredOption('--url <url>', 'https:// endpoint (plain http only to 127.0.0.1/localhost with --allow-http)')
    .option('--events <patterns>', 'comma-separated: *, approval.*, session.*, or exact types', '*')
    .option('--secret-stdin', 'read the signing secret (16-256 characters) from standard input')
    .option('--allow-http', 'allow plain http to 127.0.0.1, localhost or [::1] (for a receiver on this machine)')
    .action(
      action(async (ctx, name: string, o: { url: string; events: string; secretStdin?: boolean; allowHttp?: boolean }) => {
        const secret = o.secretStdin ? await readStdin() : undefined;
        const { addWebhook, presentWebhook } = await load();
        const s = await ctx.s();
        const r = await addWebhook(s, await ctx.actor(), { name, url: o.url, events: o.events, secret, allowHttp: o.allowHttp });
        ctx.out({ webhook: presentWebhook(r.webhook), secret: r.generated ? r.secret : undefined, generated: r.generated }, () =>
          [
            `added webhook '${name}' -> ${r.webhook.url} (events: ${r.webhook.events.join(',')})`,
            ...(r.generated ? [`signing secret (shown once; store it in the receiver): ${r.secret}`] : []),
          ].join('\n'),
        );
      }),
    );
  wh.command('list')
    .description('list webhooks (never their secrets)')
    .action(
      action(async (ctx) => {
        const { presentWebhook } = await load();
        const items = (await (await ctx.s()).webhooks.webhooks()).map(presentWebhook);
        ctx.out(items, () => table(items, ['name', 'url', 'events', 'createdBy']));
      }),
    );
  wh.command('remove <name>')
    .description('remove a webhook; its undelivered deliveries are given up')
    .action(
      action(async (ctx, name: string) => {
        const { removeWebhook } = await load();
        await removeWebhook(await ctx.s(), await ctx.actor(), name);
        ctx.out({ ok: true }, () => `removed webhook '${name}'`);
      }),
    );
  wh.command('test <name>')
    .description('send a ping event now and print the response code (exit 1 unless 2xx)')
    .action(
      action(async (ctx, name: string) => {
        const { presentDelivery, testWebhook } = await load();
        const d = presentDelivery(await testWebhook(await ctx.s(), name));
        ctx.out(
          d,
          () => `ping ${d.deliveryId} to '${name}': ${d.responseCode ?? 'no response'} ${d.status}${d.error ? ` (${d.error})` : ''}`,
        );
        if (d.status !== 'delivered') process.exitCode = 1;
      }),
    );
  wh.command('deliveries')
    .description('recent deliveries, newest first')
    .option('--webhook <name>', 'only this webhook')
    .option('--limit <n>', 'how many (1-200)', Number, 20)
    .action(
      action(async (ctx, o: { webhook?: string; limit: number }) => {
        const { presentDelivery } = await load();
        const limit = Math.min(200, Math.max(1, Number.isFinite(o.limit) ? o.limit : 20));
        const items = (await (await ctx.s()).webhooks.deliveries({ webhook: o.webhook, limit })).map(presentDelivery);
        ctx.out(items, () => table(items, ['id', 'webhook', 'event', 'status', 'responseCode', 'attempts', 'nextAttemptAt', 'createdAt']));
      }),
    );
}
