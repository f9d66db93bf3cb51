// The gateway's audit queue: one write at a time, and past its limit a flood is counted, then written
// as one summary record.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AuditQueue, AUDIT_QUEUE_LIMIT } from '../../src/protocols/rdp/audit-queue.js';
import type { AuditEntry } from '../../src/core/types.js';
import type { Services } from '../../src/services.js';

test('one write at a time; overflow is counted and summarised', async () => {
  const written: AuditEntry[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const s = {
    log: { warn() {} },
    async audit(e: AuditEntry) {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      await new Promise((r) => setImmediate(r));
      if (e.details?.fail) {
        inFlight--;
        throw new Error('db down');
      }
      written.push(e);
      inFlight--;
    },
  } as unknown as Services;
  const q = new AuditQueue(s);
  q.push({ actor: 'anonymous', channel: 'system', action: 'rdp.refused', details: { fail: true } });
  for (let i = 0; i < AUDIT_QUEUE_LIMIT + 150; i++)
    q.push({ actor: 'anonymous', channel: 'system', action: 'rdp.refused', details: { i } });
  await q.flushed();
  assert.equal(maxInFlight, 1);
  const refused = written.filter((e) => e.action === 'rdp.refused');
  const summary = written.filter((e) => e.action === 'rdp.refused-unaudited');
  assert.equal(refused.length + Number(summary[0]?.details?.count ?? 0), AUDIT_QUEUE_LIMIT + 150, 'every refusal is recorded or counted');
  assert.equal(summary.length, 1);
  assert.equal(written[written.length - 1].action, 'rdp.refused-unaudited');
});
