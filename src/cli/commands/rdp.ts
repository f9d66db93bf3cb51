// gatehouse rdp-file: decide(), ask for approval when needed, and print a .rdp file whose
// loadbalanceinfo carries a one-time ticket (60 s to start the connection) for the RDP gateway.
import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { untilDecided } from '../../core/access/watch.js';
import { GatehouseError } from '../../core/errors.js';
import { levelApprovers } from '../../core/approvals/rules.js';
import type { PolicySnapshot } from '../../core/policy/snapshot.js';
import type { ApprovalRequest } from '../../core/types.js';
import { peopleLine, personById } from '../../presenters/people.js';
import type { IssueResult } from '../../protocols/rdp/index.js';
import type { Services } from '../../services-core.js';
import { action, iso } from '../context.js';

const WAITING_EXIT = 3;

function approvers(r: ApprovalRequest, p: PolicySnapshot): string[] {
  return levelApprovers(r, r.currentLevel).map((id) => personById(p, id));
}

/** Waits until the request is decided or `ms` pass; returns its status ('waiting' when time ran out). */
async function waitForDecision(s: Services, id: number, ms: number): Promise<string> {
  const stop = new AbortController();
  const timer = setTimeout(() => stop.abort(), ms);
  try {
    return (await untilDecided(s, id, stop.signal)) ?? 'missing';
  } finally {
    clearTimeout(timer);
  }
}

export function registerRdp(program: Command): void {
  program
    .command('rdp-file <device>')
    .description(
      'print a .rdp file for the RDP gateway (a one-time ticket, valid 60 s to start the connection); asks for approval when needed',
    )
    .option('--as <user>', 'the user who connects (default: admin)')
    .option('--account <name>', 'account on the device (default: its default account)')
    .option('--protocol <p>', 'only rdp', 'rdp')
    .option('--reason <text>', 'why you need access (when approval asks for one)')
    .option('--wait <seconds>', 'wait this long for the approval instead of exiting with status 3', Number)
    .option('-o, --output <file>', 'write the .rdp file here (mode 0600) instead of standard output')
    .action(
      action(
        async (
          ctx,
          device: string,
          o: { as?: string; account?: string; protocol: string; reason?: string; wait?: number; output?: string },
        ) => {
          if (o.protocol.toLowerCase() !== 'rdp')
            throw new GatehouseError('invalid', `rdp-file is for RDP only (got --protocol ${o.protocol})`, 'protocol');
          if (o.wait !== undefined && !(Number.isFinite(o.wait) && o.wait >= 0))
            throw new GatehouseError('invalid', '--wait takes a number of seconds', 'wait');
          const s = await ctx.s();
          const actor = await ctx.actor(o.as);
          const { issueTicket } = await import('../../protocols/rdp/index.js');
          const ask = () => issueTicket(s, { username: actor.username, device, account: o.account, reason: o.reason, channel: 'cli' });
          let res: IssueResult = await ask();
          if (res.outcome === 'waiting' && o.wait) {
            // Decisions made anywhere arrive as events: follow them from now on.
            await s.bus.start();
            const status = await waitForDecision(s, res.request.id, o.wait * 1000);
            if (status === 'approved') res = await ask();
            else if (status !== 'waiting') throw new GatehouseError('forbidden', `approval request #${res.request.id} was ${status}`);
          }
          if (res.outcome === 'waiting') {
            const p = await s.policy.current();
            const who = approvers(res.request, p);
            ctx.out(
              { outcome: 'waiting', request: res.request.id, created: res.created, approvers: who },
              () =>
                `approval needed: request #${res.request.id} ${res.created ? 'created' : 'is still waiting'}; approvers: ${peopleLine(who)}.\nRun this again once it is approved, or add --wait 600 to wait for the decision.`,
            );
            process.exitCode = WAITING_EXIT;
            return;
          }
          if (res.outcome !== 'allowed') throw new GatehouseError('forbidden', `approval is required: ${res.why}`);
          if (o.output) writeFileSync(o.output, res.file, { mode: 0o600 });
          const view = {
            outcome: 'allowed',
            device: res.device,
            account: res.account,
            approval: res.approvalId,
            expiresAt: iso(res.expiresAt),
            ticket: res.ticket,
            file: res.file,
          };
          ctx.out(view, () => (o.output ? `wrote ${o.output}: open it within 60 s (the ticket works once)` : res.file.trimEnd()));
        },
      ),
    );
}
