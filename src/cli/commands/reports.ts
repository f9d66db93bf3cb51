// gatehouse reports approvals — per approver, time to decision, expired, most requested devices.
import type { Command } from 'commander';
import { reportCsv, reportForPeriod } from '../../core/reports.js';
import { personById } from '../../presenters/people.js';
import { GatehouseError } from '../../core/errors.js';
import { action, parseTime, table } from '../context.js';

export function registerReports(program: Command): void {
  program
    .command('reports')
    .description('compliance reports')
    .command('approvals')
    .description('approvals over a period: per approver, median time to decision, expired requests, most requested devices')
    .option('--since <time>', 'start: ISO 8601 or -30d style relative', '-30d')
    .option('--until <time>', 'end (default: now)')
    .option('--csv', 'CSV instead of text')
    .action(
      action(async (ctx, o: { since: string; until?: string; csv?: boolean }) => {
        const s = await ctx.s();
        const now = s.clock.now();
        const rel = (v: string) => (/^-\d+[smhd]$/.test(v) ? now - (parseTime('+' + v.slice(1), now) - now) : parseTime(v, now));
        const from = rel(o.since);
        const to = o.until ? rel(o.until) : now + 1;
        if (to <= from) throw new GatehouseError('invalid', '--until must be after --since');
        const report = await reportForPeriod(s, from, to, now, personById);
        if (o.csv && !ctx.json) {
          process.stdout.write(reportCsv(report));
          return;
        }
        ctx.out(report, () =>
          [
            `Approvals ${report.from} .. ${report.to}: ${report.requests} requests, ${report.expired} expired, ${report.autoApproved} auto-approved`,
            `median time to decision: ${report.medianMinutesToDecision ?? '-'} min`,
            `by status: ${
              Object.entries(report.byStatus)
                .map(([k, v]) => `${k} ${v}`)
                .join(', ') || '-'
            }`,
            '',
            table(report.perApprover, ['approver', 'approved', 'rejected', 'medianMinutesToDecision']),
            '',
            table(report.topDevices, ['device', 'requests']),
          ].join('\n'),
        );
      }),
    );
}
