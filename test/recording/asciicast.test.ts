// Recordings: asciicast v2, gzip; the real `asciinema cat` prints the same terminal text; a recording
// cut off mid-way (the process killed) still reads up to the cut.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AsciicastRecorder } from '../../src/recording/asciicast.js';
import { castOutput, readCast } from '../../src/recording/read.js';
import { hasBinary, missing } from '../helpers/peers.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'gh-rec-'));

test('a recording holds header, output, input (when enabled) and resizes, in order', async () => {
  const dir = tmp();
  const path = join(dir, 'a.cast.gz');
  const r = new AsciicastRecorder({ path, width: 80, height: 24, term: 'xterm-256color', recordInput: true });
  r.output(Buffer.from('$ '));
  r.input(Buffer.from('ls\r'));
  // A UTF-8 character split across two chunks comes out whole.
  const euro = Buffer.from('€ done\r\n');
  r.output(euro.subarray(0, 1));
  r.output(euro.subarray(1));
  r.resize(120, 40);
  await r.close();
  const cast = readCast(path).trim().split('\n');
  const header = JSON.parse(cast[0]);
  assert.equal(header.version, 2);
  assert.equal(header.width, 80);
  assert.equal(header.env.TERM, 'xterm-256color');
  const events = cast.slice(1).map((l) => JSON.parse(l));
  assert.deepEqual(
    events.map((e) => e[1]),
    ['o', 'i', 'o', 'r'],
  );
  assert.equal(events[2][2], '€ done\r\n');
  assert.equal(events[3][2], '120x40');
  assert.ok(
    events.every((e, i) => i === 0 || e[0] >= events[i - 1][0]),
    'times never go back',
  );
  const noInput = new AsciicastRecorder({ path: join(dir, 'b.cast.gz'), width: 80, height: 24 });
  noInput.input(Buffer.from('secret-typed\r'));
  await noInput.close();
  assert.doesNotMatch(readCast(join(dir, 'b.cast.gz')), /secret-typed/, 'input is off by default');
  rmSync(dir, { recursive: true, force: true });
});

test(
  'the real asciinema cat prints the recorded terminal text',
  { skip: missing('asciinema', hasBinary('asciinema') && hasBinary('script'), 'apt-get install asciinema') },
  async () => {
    const dir = tmp();
    const path = join(dir, 'c.cast.gz');
    const r = new AsciicastRecorder({ path, width: 80, height: 24 });
    r.output(Buffer.from('hello from the device\r\n'));
    r.output(Buffer.from('uid=0(root)\r\n'));
    await r.close();
    const cast = readCast(path);
    writeFileSync(join(dir, 'c.cast'), cast);
    // asciinema cat wants a terminal: give it one with script(1), then undo the tty's newline mapping.
    const raw = execFileSync('script', ['-qec', `asciinema cat ${join(dir, 'c.cast')}`, '/dev/null'], {
      env: { ...process.env, LANG: 'C.UTF-8' },
    }).toString();
    const norm = (x: string) => x.replace(/\r+\n/g, '\n');
    assert.equal(norm(raw), norm(castOutput(cast)));
    assert.match(norm(raw), /hello from the device\nuid=0\(root\)/);
    rmSync(dir, { recursive: true, force: true });
  },
);

test('a recording cut off by SIGKILL still reads up to the cut', async () => {
  const dir = tmp();
  const path = join(dir, 'crash.cast.gz');
  const script = join(dir, 'writer.ts');
  const mod = fileURLToPath(new URL('../../src/recording/asciicast.ts', import.meta.url));
  writeFileSync(
    script,
    `import { AsciicastRecorder } from ${JSON.stringify(mod)};
const r = new AsciicastRecorder({ path: ${JSON.stringify(path)}, width: 80, height: 24 });
let i = 0;
setInterval(() => { r.output(Buffer.from('line ' + i++ + '\\r\\n')); if (i === 20) process.stdout.write('ready\\n'); }, 10);
`,
  );
  const child = spawn(process.execPath, ['--import', 'tsx', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve) => child.stdout.on('data', (d) => String(d).includes('ready') && resolve()));
  await new Promise((r) => setTimeout(r, 600));
  child.kill('SIGKILL');
  await new Promise((r) => child.once('exit', r));
  const out = castOutput(readCast(path));
  const lines = out.split('\r\n').filter(Boolean);
  assert.ok(lines.length >= 20, `${lines.length} lines survived the crash`);
  assert.deepEqual(
    lines,
    lines.map((_, i) => `line ${i}`),
    'every surviving line intact and in order',
  );
  rmSync(dir, { recursive: true, force: true });
});
