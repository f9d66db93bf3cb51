// gatehouse serve | db migrate | params … | audit …
// Storage and server modules are imported inside the actions, so registering these commands stays cheap.
import type { Command } from 'commander';
import { GatehouseError } from '../../core/errors.js';
import { paramDef } from '../../core/params.js';
import { auditActor, auditFields } from '../../presenters/audit.js';
import { action, fail, iso, table } from '../context.js';

export function registerSystem(program: Command): void {
  registerServe(program);
  registerDb(program);
  registerNodes(program);
  registerParams(program);
  registerAudit(program);
}

function registerServe(program: Command): void {
  program
    .command('serve')
    .description('run the gateway: web console/API and every protocol listener')
    .action(async () => {
      try {
        const { serve } = await import('../../main.js');
        await serve();
      } catch (err) {
        fail(false, err);
      }
    });
}

function registerDb(program: Command): void {
  program
    .command('db')
    .description('database maintenance')
    .command('migrate')
    .description('apply pending migrations (serve does this too)')
    .action(
      action(async (ctx) => {
        const [{ loadConfig }, { migrate, openDb }] = await Promise.all([import('../../config/env.js'), import('../../storage/db.js')]);
        const config = loadConfig();
        const db = openDb({ databaseUrl: config.databaseUrl, sqlitePath: config.sqlitePath });
        try {
          const applied = await migrate(db);
          ctx.out({ database: db.where, applied }, () =>
            applied.length ? `applied ${applied.join(', ')} to ${db.where}` : `${db.where} is up to date`,
          );
        } finally {
          await db.kysely.destroy();
        }
      }),
    );
}

function registerNodes(program: Command): void {
  program
    .command('nodes')
    .description('gateway nodes on this database')
    .command('list')
    .description('every node with its last heartbeat, status (down after 30 s of silence) and live sessions')
    .action(
      action(async (ctx) => {
        const s = await ctx.s();
        const { NodeService } = await import('../../core/nodes.js');
        const svc = new NodeService(s.nodeStore, s.clock, { id: s.nodeId, host: '', pid: 0, version: '' }, async () => {});
        const rows = (await svc.list()).map((n) => ({ ...n, self: undefined, startedAt: iso(n.startedAt), lastSeen: iso(n.lastSeen) }));
        ctx.out(rows, () => table(rows, ['id', 'host', 'pid', 'status', 'lastSeen', 'startedAt', 'liveSessions']));
      }),
    );
}

function registerParams(program: Command): void {
  const params = program.command('params').description('system parameters');
  params
    .command('list')
    .description('every parameter with its value, default and meaning')
    .action(
      action(async (ctx) => {
        const rows = (await (await ctx.s()).admin.params()).all();
        ctx.out(rows, () => table(rows, ['name', 'value', 'default', 'meaning']));
      }),
    );
  params
    .command('get <name>')
    .description('one parameter')
    .action(
      action(async (ctx, name: string) => {
        const d = paramDef(name);
        const value = (await (await ctx.s()).admin.params()).raw(name);
        ctx.out({ name, value, default: d.default, meaning: d.meaning }, () => value);
      }),
    );
  params
    .command('set <name> <value>')
    .description('change a parameter (validated; audited)')
    .action(
      action(async (ctx, name: string, value: string) => {
        const s = await ctx.s();
        const v = await s.admin.setParam(await ctx.actor(), name, value);
        ctx.out({ name, value: v }, () => `${name} = ${v}`);
      }),
    );
}

function registerAudit(program: Command): void {
  const audit = program.command('audit').description('the audit log');
  audit
    .command('list')
    .description('newest records first')
    .option('--action <prefix>', 'only actions starting with this, e.g. approval.')
    .option('--target <type:id>', 'only records about one object, e.g. approval:17')
    .option('--limit <n>', 'at most this many', Number, 50)
    .action(
      action(async (ctx, o: { action?: string; target?: string; limit: number }) => {
        const [targetType, targetId] = o.target ? o.target.split(':', 2) : [];
        if (o.target && !targetId) throw new GatehouseError('invalid', '--target takes type:id, e.g. approval:17');
        const s = await ctx.s();
        const rows = await s.adminStore.listAudit({ limit: Math.min(o.limit, 10000), action: o.action, targetType, targetId });
        const view = rows.map((r) => ({ ...r, at: iso(r.at) }));
        const p = await s.policy.current();
        // The table reads like the console: people by name, details as "label: value" (times as recorded, UTC).
        ctx.out(view, () =>
          table(
            view.map((r) => ({
              ...r,
              actor: auditActor(r.actor, p),
              target: r.targetType ? `${r.targetType}:${r.targetId}` : null,
              details: auditFields(r.details, p)
                .map((f) => `${f.label}: ${f.value}`)
                .join('; '),
            })),
            ['id', 'at', 'actor', 'channel', 'action', 'target', 'details'],
          ),
        );
      }),
    );
  audit
    .command('verify')
    .description('check the hash chain and signatures of the whole audit log; exit 1 at the first broken record')
    .action(
      action(async (ctx) => {
        const s = await ctx.s();
        const started = Date.now();
        const res = await s.auditChain.verify((n) => {
          if (!ctx.json && process.stderr.isTTY) process.stderr.write(`\rread ${n} records…`);
        });
        if (!ctx.json && process.stderr.isTTY) process.stderr.write('\n');
        const ms = Date.now() - started;
        ctx.out({ ...res, ms }, () =>
          res.ok
            ? `audit log intact: ${res.records} records${res.legacy ? ` (${res.legacy} written before the chain began, unsigned)` : ''}, verified in ${ms} ms`
            : `AUDIT LOG BROKEN at record ${res.problem!.id} (seq ${res.problem!.seq}): ${res.problem!.kind} — ${res.problem!.detail}`,
        );
        if (!res.ok) process.exitCode = 1;
      }),
    );
}
