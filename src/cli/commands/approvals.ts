// gatehouse approvals … and gatehouse policy explain.
import type { Command } from 'commander';
import { untilDecided } from '../../core/access/watch.js';
import { GatehouseError } from '../../core/errors.js';
import { isProtocol, APPROVAL_STATUSES, type ApprovalStatus, type Protocol } from '../../core/types.js';
import { effectiveStatus, levelApprovers } from '../../core/approvals/rules.js';
import { approverManagerText, outcomeText, peopleLine, presentApproval, presentDecision } from '../../presenters/index.js';
import type { Services } from '../../services-core.js';
import { action, parseTime, table, type Ctx } from '../context.js';

function protocol(v: string | undefined, def: Protocol = 'ssh'): Protocol {
  const p = (v ?? def).toLowerCase();
  if (!isProtocol(p))
    throw new GatehouseError('invalid', `unknown protocol '${v}': use ssh, sftp, rdp, http, postgres or mysql`, 'protocol');
  return p;
}

function idArg(v: string): number {
  const n = Number(String(v).replace(/^#/, ''));
  if (!Number.isInteger(n) || n <= 0) throw new GatehouseError('invalid', `'${v}' is not an approval request id`);
  return n;
}

async function show(ctx: Ctx, s: Services, id: number, verb?: string): Promise<void> {
  const r = await s.approvals.get(id);
  if (!r) throw new GatehouseError('not_found', `approval request #${id} not found`);
  const p = await s.policy.current();
  const view = presentApproval(p, r, s.clock.now(), await s.store.decisions(id));
  ctx.out(view, () => {
    const lines = [
      `${verb ? verb + ': ' : ''}request #${view.id} is ${view.status}`,
      `  requester: ${view.requester}   device: ${view.device}   account: ${view.account}   protocol: ${view.protocol}`,
      `  reason:    ${view.reason ?? '-'}`,
      `  created:   ${view.createdAt}   expires: ${view.expiresAt ?? 'never'}`,
      `  route:     ${view.route.why}`,
    ];
    for (const l of view.levels)
      lines.push(
        `  level ${l.level}: ${l.authority} (quorum ${l.quorum}) approvers: ${peopleLine(l.approvers)}${l.escalated ? ' (escalated)' : ''}`,
      );
    lines.push(`  Approver Manager: ${approverManagerText(view)}`);
    const outcome = outcomeText(view);
    if (outcome) lines.push(`  outcome:   ${outcome}`);
    if (view.grantEnd) lines.push(`  grant:     ${view.grantStart} .. ${view.grantEnd}`);
    for (const d of view.decisions ?? [])
      lines.push(
        `  ${d.at} level ${d.level} ${d.decision} by ${d.by}${d.onBehalfOf ? ` for ${d.onBehalfOf}` : ''} via ${d.channel}${d.comment ? `: ${d.comment}` : ''}`,
      );
    return lines.join('\n');
  });
}

export function registerApprovals(program: Command): void {
  const a = program.command('approvals').description('approval requests: ask, list, decide');
  registerRequest(a);
  registerList(a);
  a.command('show <id>')
    .description('one request with its route, approvers and decisions')
    .action(action(async (ctx, id: string) => show(ctx, await ctx.s(), idArg(id))));
  registerDecisions(a);
  registerWait(a);
  registerDelegate(a);
  registerExplain(program);
}

function registerRequest(a: Command): void {
  a.command('request <device>')
    .description('ask for access now, or ahead as a reservation with --start/--end')
    .option('--as <user>', 'the requester (default: admin)')
    .option('--protocol <p>', 'ssh, sftp, rdp, http, postgres or mysql', 'ssh')
    .option('--account <name>', 'account on the device (default: its default account)')
    .option('--reason <text>', 'why you need access')
    .option('--start <time>', 'reservation start: ISO 8601 or +30m/+2h/+1d')
    .option('--end <time>', 'reservation end')
    .action(
      action(
        async (
          ctx,
          device: string,
          o: { as?: string; protocol?: string; account?: string; reason?: string; start?: string; end?: string },
        ) => {
          const s = await ctx.s();
          const actor = await ctx.actor(o.as);
          const res = await s.approvals.request({
            username: actor.username,
            device,
            account: o.account,
            protocol: protocol(o.protocol),
            reason: o.reason,
            channel: 'cli',
            start: o.start ? parseTime(o.start) : undefined,
            end: o.end ? parseTime(o.end) : undefined,
          });
          if (res.outcome === 'allowed') {
            ctx.out({ outcome: 'allowed', why: res.decision.why }, () => `no approval needed: ${res.decision.why}`);
            return;
          }
          await show(
            ctx,
            s,
            res.request.id,
            res.created ? (res.outcome === 'approved' ? 'auto-approved' : 'created') : 'reused waiting request',
          );
        },
      ),
    );
}

function registerList(a: Command): void {
  a.command('list')
    .description('list requests (newest first)')
    .option('--status <status>', APPROVAL_STATUSES.join('|'))
    .option('--as <user>', 'only requests this user made or may decide')
    .option('--limit <n>', 'at most this many', Number, 50)
    .action(
      action(async (ctx, o: { status?: string; as?: string; limit: number }) => {
        if (o.status && !(APPROVAL_STATUSES as readonly string[]).includes(o.status))
          throw new GatehouseError('invalid', `unknown status '${o.status}': use ${APPROVAL_STATUSES.join(', ')}`);
        const s = await ctx.s();
        const p = await s.policy.current();
        const now = s.clock.now();
        const me = o.as ? p.usersByName.get(o.as) : undefined;
        if (o.as && !me) throw new GatehouseError('not_found', `unknown user '${o.as}'`);
        // A waiting request past its deadline lists as expired even before the sweeper ran.
        const stored = o.status === 'expired' ? undefined : o.status === 'waiting' ? 'waiting' : (o.status as ApprovalStatus | undefined);
        let rows = await s.store.listRequests({ status: stored, limit: me ? 1000 : o.limit });
        if (o.status === 'expired')
          rows = (await s.store.listRequests({ limit: 1000 })).filter((r) => effectiveStatus(r, now) === 'expired');
        if (o.status) rows = rows.filter((r) => effectiveStatus(r, now) === o.status);
        if (me) rows = rows.filter((r) => r.requesterId === me.id || r.route.levels.some((_, i) => levelApprovers(r, i).includes(me.id)));
        const views = rows.slice(0, o.limit).map((r) => presentApproval(p, r, now));
        ctx.out(views, () =>
          table(
            views.map((v) => ({ ...v, approverManager: approverManagerText(v) })),
            ['id', 'status', 'requester', 'device', 'account', 'protocol', 'createdAt', 'approverManager', 'reason'],
          ),
        );
      }),
    );
}

function registerDecisions(a: Command): void {
  for (const verb of ['approve', 'reject'] as const) {
    a.command(`${verb} <id>`)
      .description(`${verb} a request you may decide`)
      .option('--as <user>', 'the approver (default: admin)')
      .option('--comment <text>', 'shown to the requester')
      .action(
        action(async (ctx, id: string, o: { as?: string; comment?: string }) => {
          const s = await ctx.s();
          const actor = await ctx.actor(o.as);
          const r = await s.approvals[verb](idArg(id), actor.username, { comment: o.comment, channel: 'cli', proof: 'operator' });
          await show(ctx, s, r.id, verb === 'approve' ? 'approved' : 'rejected');
        }),
      );
  }
  a.command('cancel <id>')
    .description('withdraw your waiting request')
    .option('--as <user>', 'the requester (default: admin)')
    .action(
      action(async (ctx, id: string, o: { as?: string }) => {
        const s = await ctx.s();
        const r = await s.approvals.cancel(idArg(id), (await ctx.actor(o.as)).username, 'cli', 'operator');
        await show(ctx, s, r.id, 'cancelled');
      }),
    );
  a.command('revoke <id>')
    .description('end an approved grant; its live sessions end too')
    .option('--as <user>', 'an approver of the request or an admin (default: admin)')
    .option('--comment <text>')
    .action(
      action(async (ctx, id: string, o: { as?: string; comment?: string }) => {
        const s = await ctx.s();
        const r = await s.approvals.revoke(idArg(id), (await ctx.actor(o.as)).username, {
          comment: o.comment,
          channel: 'cli',
          proof: 'operator',
        });
        await show(ctx, s, r.id, 'revoked');
      }),
    );
  a.command('escalate <id>')
    .description("add the next level's approvers (the admins at the last level) to the current level")
    .option('--as <user>', 'an approver of the current level or an admin (default: admin)')
    .action(
      action(async (ctx, id: string, o: { as?: string }) => {
        const s = await ctx.s();
        const r = await s.approvals.escalate(idArg(id), (await ctx.actor(o.as)).username, 'cli', 'operator');
        await show(ctx, s, r.id, 'escalated');
      }),
    );
}

function registerWait(a: Command): void {
  a.command('wait <id>')
    .description('wait until the request is decided; exit 0 when approved, 1 otherwise')
    .option('--timeout <seconds>', 'give up after this long', Number, 0)
    .action(
      action(async (ctx, id: string, o: { timeout: number }) => {
        const s = await ctx.s();
        const n = idArg(id);
        await s.bus.start();
        // A timer of our own (not AbortSignal.timeout): it keeps the process alive while it waits.
        const stop = new AbortController();
        const timer = o.timeout > 0 ? setTimeout(() => stop.abort(), o.timeout * 1000) : null;
        const decided = await untilDecided(s, n, stop.signal).finally(() => timer && clearTimeout(timer));
        const status = decided === undefined ? 'not_found' : decided === 'waiting' ? 'timeout' : decided;
        if (status === 'not_found') throw new GatehouseError('not_found', `approval request #${n} not found`);
        ctx.out({ id: n, status }, () => `request #${n}: ${status}`);
        if (status !== 'approved') process.exitCode = 1;
      }),
    );
}

function registerDelegate(a: Command): void {
  a.command('delegate')
    .description('hand your approval rights to another user for a period')
    .option('--as <user>', 'the approver who delegates (default: admin)')
    .requiredOption('--to <user>', 'who receives the rights')
    .option('--start <time>', 'from (default: now)')
    .requiredOption('--end <time>', 'until: ISO 8601 or +2h/+7d')
    .option('--reason <text>')
    .action(
      action(async (ctx, o: { as?: string; to: string; start?: string; end: string; reason?: string }) => {
        const s = await ctx.s();
        const actor = await ctx.actor(o.as);
        const period = (now: number) => ({ startsAt: o.start ? parseTime(o.start, now) : now, endsAt: parseTime(o.end, now) });
        const d = await s.delegations.delegate(actor, { to: o.to, period, reason: o.reason ?? null });
        const [start, end] = [new Date(d.startsAt).toISOString(), new Date(d.endsAt).toISOString()];
        ctx.out(
          { id: d.id, from: actor.username, to: o.to, start, end },
          () => `${actor.username}'s approval rights go to ${o.to} from ${start} until ${end}`,
        );
      }),
    );
}

function registerExplain(program: Command): void {
  program
    .command('policy')
    .description('inspect policy')
    .command('explain <user> <device>')
    .description('what decide() answers for this user and device, why, and who may approve')
    .option('--protocol <p>', 'ssh, sftp, rdp, http, postgres or mysql', 'ssh')
    .option('--account <name>', 'account on the device')
    .action(
      action(async (ctx, user: string, device: string, o: { protocol?: string; account?: string }) => {
        const s = await ctx.s();
        const d = await s.approvals.decide(user, device, protocol(o.protocol), o.account);
        // The operator's view names the real cause of a denial; users are only ever told NO_ACCESS.
        const reason = d.outcome === 'denied' ? await s.approvals.denialReason(user, device, protocol(o.protocol), o.account) : null;
        const g = await s.approvals.grantCoverage(user, device, protocol(o.protocol));
        const grant = { grantScope: g.scope, grantCovers: g.covers };
        const view = { ...presentDecision(await s.policy.current(), d), ...(reason ? { reason } : {}), ...grant };
        ctx.out(view, () => {
          const lines = [`${user} -> ${device} (${protocol(o.protocol)}): ${view.outcome}`, `  why: ${reason ?? view.why}`];
          if ('route' in view && view.route) {
            for (const l of view.route.levels)
              lines.push(
                `  level ${l.level}: ${l.authority} (quorum ${l.quorum}${l.escalateAfterMinutes ? `, escalates after ${l.escalateAfterMinutes} min` : ''}) approvers: ${peopleLine(l.approvers)}`,
              );
            lines.push(`  Approver Manager: ${peopleLine(view.approverManager)}`);
            if (view.requireReason) lines.push('  a reason is required');
            if (view.noEligibleApprover) lines.push('  NO ELIGIBLE APPROVER: requests will be refused until one is named');
          }
          if (g.covers.length) lines.push(`  grant scope: ${g.scope} (one approval covers ${g.covers.join(', ')})`);
          return lines.join('\n');
        });
      }),
    );
}
