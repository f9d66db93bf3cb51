// The decision race: 100 requests, each decided by three deciders on three nodes (approve, reject,
// approve) while every node's sweeper expires them, all within ~2.4 s. Shared by the cluster test (which
// asserts) and bench/race.ts (which repeats it and reports the worst case).
import { kyselyOf } from '../../src/storage/store.js';
import type { Services } from '../../src/services.js';
import type { Node } from './cluster.js';
import { login } from './cluster.js';
import { waitFor } from './wait.js';

const ADMIN = { username: 'admin', id: null, channel: 'cli' as const };
const TERMINAL_ACTIONS = ['approval.approve', 'approval.reject', 'approval.expire'];

export interface RaceOptions {
  s: Services;
  nodes: { a: Node; b: Node; c: Node };
  /** Every mail the SMTP server has accepted so far, oldest first. */
  mails(): readonly { rcpt: string[]; subject: string }[];
  /** Approvers (console logins) and the requester, with their mail addresses. */
  approvers: { username: string; password: string; email: string }[];
  requester: { username: string; email: string };
  device: string;
  requests?: number;
}

export interface RaceResult {
  /** HTTP status → count, over every racing decision. */
  statuses: Record<string, number>;
  /** Error code of every 409 → count. */
  conflicts: Record<string, number>;
  /** Final state → count. */
  tally: Record<string, number>;
  /** Requests that did not end in exactly one terminal transition (with what the audit shows). */
  notExactlyOnce: string[];
  /** request × recipient × kind with more than one outbox row. */
  outboxDuplicates: string[];
  /** request × recipient with more than one delivered mail (each recipient gets one kind here). */
  deliveredDuplicates: string[];
  /** Requests whose requester got no outcome mail. */
  missingOutcome: number[];
  /** Slowest and median decision answer, ms. */
  maxDecideMs: number;
  p50DecideMs: number;
  /** Lines the nodes logged about failed requests during the race. */
  failures: string[];
}

export async function race(o: RaceOptions): Promise<RaceResult> {
  const { s, nodes } = o;
  const n = o.requests ?? 100;
  const logMark = Object.values(nodes).map((x) => x.log.length);
  const mailMark = o.mails().length;
  const ids: number[] = [];
  await s.admin.setParam(ADMIN, 'approval.status.change.to.expire', '1');
  const base = Date.now();
  for (let i = 0; i < n; i++) {
    const r = await s.approvals.request({
      username: o.requester.username,
      device: o.device,
      protocol: i % 2 ? 'ssh' : 'sftp',
      channel: 'api',
      reason: `race ${i}`,
      start: base + i * 1000,
      end: base + 3_600_000 + i * 1000,
    });
    if (r.outcome === 'allowed') throw new Error('expected a request');
    ids.push(r.request.id);
  }
  const [b1, b2] = o.approvers;
  const deciders = [
    await login(nodes.b, b1.username, b1.password),
    await login(nodes.c, b2.username, b2.password),
    await login(nodes.a, b1.username, b1.password),
  ];
  // Every deadline a moment from now: the sweepers on all three nodes race the deciders.
  const deadline = Date.now() + 1500;
  await kyselyOf(s.store).updateTable('approval_requests').set({ expires_at: deadline }).where('id', 'in', ids).execute();
  while (Date.now() < deadline - 1200) await new Promise((r) => setTimeout(r, 20));
  const statuses: Record<string, number> = {};
  const conflicts: Record<string, number> = {};
  const took: number[] = [];
  const at = (ms: number, f: () => Promise<{ status: number; body: Record<string, unknown> }>) =>
    new Promise((r) => setTimeout(r, ms)).then(async () => {
      const t0 = Date.now();
      const x = await f();
      took.push(Date.now() - t0);
      statuses[x.status] = (statuses[x.status] ?? 0) + 1;
      if (x.status === 409) {
        const code = String((x.body.error as { code?: string } | undefined)?.code);
        conflicts[code] = (conflicts[code] ?? 0) + 1;
      }
    });
  // Deciders spread over the 2.4 s around the deadline, on three nodes; the sweepers fire at it.
  await Promise.all(
    ids.flatMap((id, i) => [
      at((i * 24) % 2400, () => deciders[0](`/approvals/${id}/approve`, { comment: 'b' })),
      at((i * 24) % 2400, () => deciders[1](`/approvals/${id}/reject`, { comment: 'c' })),
      at((i * 37) % 2400, () => deciders[2](`/approvals/${id}/approve`, { comment: 'a' })),
    ]),
  );
  // Requests nobody decided expire on the sweep after the deadline.
  await waitFor(
    'the race to settle',
    async () =>
      (
        await kyselyOf(s.store)
          .selectFrom('approval_requests')
          .select('id')
          .where('id', 'in', ids)
          .where('status', '=', 'waiting')
          .execute()
      ).length === 0,
    30_000,
    100,
  );
  const rows = await kyselyOf(s.store).selectFrom('approval_requests').select(['id', 'status']).where('id', 'in', ids).execute();
  const tally: Record<string, number> = {};
  for (const r of rows) tally[r.status] = (tally[r.status] ?? 0) + 1;
  const notExactlyOnce: string[] = [];
  for (const id of ids) {
    const audit = await s.adminStore.listAudit({ limit: 50, targetType: 'approval', targetId: String(id) });
    const terminal = audit.filter((a) => TERMINAL_ACTIONS.includes(a.action));
    const row = rows.find((r) => r.id === id);
    if (terminal.length !== 1 || !['approved', 'rejected', 'expired'].includes(row?.status ?? ''))
      notExactlyOnce.push(`#${id} ${row?.status}: ${terminal.map((a) => a.action).join(',')}`);
  }
  const mail = await settledMail(o, ids, mailMark);
  return {
    statuses,
    conflicts,
    tally,
    notExactlyOnce,
    ...mail,
    maxDecideMs: Math.max(0, ...took),
    p50DecideMs: took.sort((x, y) => x - y)[Math.floor(took.length / 2)] ?? 0,
    failures: Object.values(nodes).flatMap((x, i) =>
      x.log
        .slice(logMark[i])
        .join('')
        .split('\n')
        .filter((l) => /"level":(50|60)/.test(l)),
    ),
  };
}

/** Waits until every outcome mail is delivered and the outbox is idle, then counts. */
async function settledMail(o: RaceOptions, ids: number[], mark: number) {
  const { s } = o;
  const about = (who: string, id: number) =>
    o
      .mails()
      .slice(mark)
      .filter((m) => m.rcpt.includes(who) && m.subject.endsWith(`#${id}`)).length;
  // Generous: on a machine at load ~25 three nodes took over a minute to deliver the ~200 mails.
  await waitFor('every outcome mail', () => ids.every((id) => about(o.requester.email, id) >= 1), 240_000, 100).catch(() => {});
  await waitFor(
    'an idle outbox',
    async () =>
      (
        await kyselyOf(s.store)
          .selectFrom('mail_outbox')
          .select('id')
          .where('request_id', 'in', ids)
          .where('status', 'in', ['queued', 'sending'])
          .execute()
      ).length === 0,
    60_000,
    100,
  ).catch(() => {});
  // Anything sent twice would arrive within moments of the first.
  await new Promise((r) => setTimeout(r, 2000));
  const dup = await kyselyOf(s.store)
    .selectFrom('mail_outbox')
    .select(['request_id', 'to_addr', 'kind', (eb) => eb.fn.countAll<number>().as('n')])
    .where('request_id', 'in', ids)
    .groupBy(['request_id', 'to_addr', 'kind'])
    .having((eb) => eb.fn.countAll(), '>', 1)
    .execute();
  const deliveredDuplicates: string[] = [];
  for (const id of ids)
    for (const who of [o.requester.email, ...o.approvers.map((a) => a.email)]) {
      const k = about(who, id);
      if (k > 1) deliveredDuplicates.push(`#${id} ${who} ×${k}`);
    }
  return {
    outboxDuplicates: dup.map((d) => `#${d.request_id} ${d.to_addr} ${d.kind} ×${d.n}`),
    deliveredDuplicates,
    missingOutcome: ids.filter((id) => about(o.requester.email, id) === 0),
  };
}
