// Templates: operator overrides win over the repo's defaults, and every value is escaped for its part.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_TEMPLATES_DIR } from '../../src/notify/config.js';
import { parseCommand } from '../../src/notify/replies.js';
import { render } from '../../src/notify/templates.js';

test('an override directory wins; edits are picked up; values are escaped per part', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gh-tpl-'));
  try {
    const vars = { id: 7, why: 'x<script>\r\nBcc: y', hint: 'h', instance: 'Acme' };
    assert.match(render([dir, DEFAULT_TEMPLATES_DIR], 'refused', vars).text, /request #7 was not accepted: x<script>\\r\\nBcc: y/);
    writeFileSync(join(dir, 'refused.txt'), 'Custom {{ why }} for #{{id}}\n');
    writeFileSync(join(dir, 'refused.html'), '<p>{{why}}</p>');
    const out = render([dir, DEFAULT_TEMPLATES_DIR], 'refused', vars);
    assert.equal(out.text, 'Custom x<script>\\r\\nBcc: y for #7\n');
    assert.equal(out.html, '<p>x&lt;script&gt;\\r\\nBcc: y</p>');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('reply commands: the first non-quoted line decides', () => {
  assert.deepEqual(parseCommand('APPROVE looks fine\n\n> quoted'), { action: 'approve', comment: 'looks fine' });
  assert.deepEqual(parseCommand('\n> REJECT no\nreject: not now'), { action: 'reject', comment: 'not now' });
  assert.deepEqual(parseCommand('Approve'), { action: 'approve', comment: '' });
  assert.equal(parseCommand('I approve\nAPPROVE'), null);
  assert.equal(parseCommand('APPROVED-ish'), null);
  assert.equal(parseCommand(''), null);
});
