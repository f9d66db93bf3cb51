// The tamper-evident audit log: edit, delete, reorder and insert records directly in the database;
// `verify` names each case. A clean chain of 100k records verifies in under 10 s.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { DB_TARGETS } from '../helpers/db.js';
import { ADMIN, seedOrg, testServices, type TestEnv } from '../helpers/services.js';
import { appendAudit, verifyAuditLog } from '../../src/storage/audit-log.js';
import { recordHash, sign } from '../../src/core/audit.js';
import { gh } from '../helpers/cli.js';
import { dbOf, auditKeyOf } from '../helpers/kysely.js';

for (const target of DB_TARGETS) {
  describe(`audit chain on ${target.name}`, { skip: target.skip }, () => {
    let t: TestEnv;
    before(async () => {
      t = await testServices(target.name);
      await seedOrg(t.s);
      const r = await t.s.approvals.request({ username: 'alice', device: 'web01', protocol: 'ssh', channel: 'cli', reason: 'audit me' });
      if (r.outcome !== 'allowed') await t.s.approvals.approve(r.request.id, 'bob', { channel: 'cli', comment: 'fine' });
    });
    after(async () => t?.cleanup());

    const verify = () => verifyAuditLog(dbOf(t.s), auditKeyOf(t.s));
    const db = () => dbOf(t.s);
    const ids = async () => (await db().selectFrom('audit_log').select(['id', 'seq']).orderBy('id').execute()).map((r) => r.id);

    test('every write is chained and the clean log verifies, also through the CLI', async () => {
      const res = await verify();
      assert.equal(res.ok, true, JSON.stringify(res.problem));
      assert.ok(res.records > 10, `${res.records} records`);
      const cli = await gh(['audit', 'verify', '--json'], { env: t.env });
      assert.equal(cli.code, 0, cli.stderr);
      assert.equal(JSON.parse(cli.stdout).ok, true);
    });

    test('an edited record is found and named', async () => {
      const [, second] = await ids();
      const before = await db().selectFrom('audit_log').select('details').where('id', '=', second).executeTakeFirstOrThrow();
      await db().updateTable('audit_log').set({ details: '{"comment":"nothing to see"}' }).where('id', '=', second).execute();
      const res = await verify();
      assert.equal(res.ok, false);
      assert.equal(res.problem!.kind, 'edited');
      assert.equal(res.problem!.id, second);
      const cli = await gh(['audit', 'verify'], { env: t.env });
      assert.equal(cli.code, 1);
      assert.match(cli.stdout, new RegExp(`BROKEN at record ${second} .*edited`));
      await db().updateTable('audit_log').set({ details: before.details }).where('id', '=', second).execute();
      assert.equal((await verify()).ok, true);
    });

    test('a deleted record is found, in the middle and at the end', async () => {
      const all = await ids();
      const victim = all[5];
      const row = await db().selectFrom('audit_log').selectAll().where('id', '=', victim).executeTakeFirstOrThrow();
      await db().deleteFrom('audit_log').where('id', '=', victim).execute();
      const res = await verify();
      assert.equal(res.problem?.kind, 'deleted');
      assert.equal(res.problem?.id, all[6]);
      await db().insertInto('audit_log').values(row).execute();
      assert.equal((await verify()).ok, true);
      const last = all[all.length - 1];
      const lastRow = await db().selectFrom('audit_log').selectAll().where('id', '=', last).executeTakeFirstOrThrow();
      await db().deleteFrom('audit_log').where('id', '=', last).execute();
      const tail = await verify();
      assert.equal(tail.problem?.kind, 'deleted');
      assert.match(tail.problem!.detail, /cut off the end/);
      await db().insertInto('audit_log').values(lastRow).execute();
      assert.equal((await verify()).ok, true);
    });

    test('reordered records are found', async () => {
      const all = await ids();
      const [a, b] = [all[3], all[4]];
      const ra = await db().selectFrom('audit_log').selectAll().where('id', '=', a).executeTakeFirstOrThrow();
      const rb = await db().selectFrom('audit_log').selectAll().where('id', '=', b).executeTakeFirstOrThrow();
      // Swap the two records' positions: each row keeps its own (intact) content under the other's id.
      await db().deleteFrom('audit_log').where('id', 'in', [a, b]).execute();
      await db()
        .insertInto('audit_log')
        .values([
          { ...rb, id: a },
          { ...ra, id: b },
        ])
        .execute();
      const res = await verify();
      assert.equal(res.problem?.kind, 'reordered');
      assert.equal(res.problem?.id, a);
      await db().deleteFrom('audit_log').where('id', 'in', [a, b]).execute();
      await db().insertInto('audit_log').values([ra, rb]).execute();
      assert.equal((await verify()).ok, true);
    });

    test('an inserted record is found, even with a correct hash (no signing key)', async () => {
      const all = await ids();
      const prev = await db()
        .selectFrom('audit_log')
        .selectAll()
        .where('id', '=', all[all.length - 1])
        .executeTakeFirstOrThrow();
      // A forger who knows the hash rule but not the key appends a plausible record.
      const fields = {
        seq: prev.seq! + 1,
        at: Date.now(),
        actor: 'mallory',
        actorId: null,
        channel: 'cli',
        action: 'approval.approve',
        targetType: 'approval',
        targetId: '1',
        details: '{}',
      };
      const hash = recordHash(prev.hash!, fields);
      await db()
        .insertInto('audit_log')
        .values({
          at: fields.at,
          actor: fields.actor,
          actor_id: null,
          channel: fields.channel,
          action: fields.action,
          target_type: fields.targetType,
          target_id: fields.targetId,
          details: fields.details,
          seq: fields.seq,
          prev_hash: prev.hash,
          hash,
          sig: 'f'.repeat(64),
        })
        .execute();
      const res = await verify();
      assert.equal(res.problem?.kind, 'inserted');
      await db().deleteFrom('audit_log').where('actor', '=', 'mallory').execute();
      assert.equal((await verify()).ok, true);
    });

    test('100k records verify in under 10 s', { timeout: 300_000 }, async () => {
      const key = auditKeyOf(t.s);
      // Build the chain exactly as appendAudit() does, but insert in batches so the test stays quick.
      const last = await db().selectFrom('audit_log').select(['seq', 'hash']).orderBy('seq', 'desc').limit(1).executeTakeFirstOrThrow();
      let prevHash = last.hash!;
      let seq = last.seq!;
      for (let done = 0; done < 100_000; done += 1000) {
        const batch = [];
        for (let i = 0; i < 1000; i++) {
          seq++;
          const f = {
            seq,
            at: Date.now(),
            actor: 'load',
            actorId: null,
            channel: 'system',
            action: 'load.test',
            targetType: 'n',
            targetId: String(done + i),
            details: JSON.stringify({ i }),
          };
          const hash = recordHash(prevHash, f);
          batch.push({
            at: f.at,
            actor: f.actor,
            actor_id: null,
            channel: f.channel,
            action: f.action,
            target_type: f.targetType,
            target_id: f.targetId,
            details: f.details,
            seq,
            prev_hash: prevHash,
            hash,
            sig: sign(key, hash),
          });
          prevHash = hash;
        }
        await db().insertInto('audit_log').values(batch).execute();
      }
      // One real append on top moves the signed head to the end.
      await appendAudit(db(), key, { actor: 'load', channel: 'system', action: 'load.done' }, Date.now());
      const start = Date.now();
      const res = await verify();
      const ms = Date.now() - start;
      assert.equal(res.ok, true, JSON.stringify(res.problem));
      assert.ok(res.records >= 100_000);
      assert.ok(ms < 10_000, `verified ${res.records} records in ${ms} ms`);
      console.log(`# ${target.name}: verified ${res.records} audit records in ${ms} ms`);
      void ADMIN;
      void sql;
    });
  });
}
