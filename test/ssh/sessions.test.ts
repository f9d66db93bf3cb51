// Each kind of session through the gateway with the real OpenSSH ssh, sftp and scp against a real sshd:
// a PTY shell (term, size, window change), exec with its exit status and signal, sftp of 50 MiB, scp
// both ways, the env allow-list, agent forwarding refused, port forwarding only when the rule allows.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, ftruncateSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ssh2 from 'ssh2';
import { freePort, launch, run, SSHD_SKIP, startSshd, type Sshd } from './peers.js';
import { ADMIN, startGateway, type Gw } from './gateway.js';
import { TMUX_SKIP, Tmux } from './tmux.js';
import { dbOf } from '../helpers/kysely.js';

const sha = (f: string) => createHash('sha256').update(readFileSync(f)).digest('hex');

describe('ssh proxy: each kind of session', { skip: SSHD_SKIP }, () => {
  let sshd: Sshd;
  let gw: Gw;
  let work: string;
  before(async () => {
    sshd = await startSshd();
    gw = await startGateway(sshd, { approval: false });
    work = mkdtempSync(join(tmpdir(), 'gh-files-'));
  });
  after(async () => {
    await gw?.stop();
    await sshd?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  test('exec: output, stderr and the exit code come back exactly; stdin goes through', async () => {
    const r = await gw.ssh('alice@web01', ['echo out; echo err >&2; exit 7']).done;
    assert.equal(r.code, 7);
    assert.equal(r.stdout, 'out\n');
    assert.equal(r.stderr, 'err\n');
    const input = randomBytes(3 * 1024 * 1024);
    const c = await gw.ssh('alice@web01', ['sha256sum'], { input }).done;
    assert.equal(c.code, 0);
    assert.equal(c.stdout.split(' ')[0], createHash('sha256').update(input).digest('hex'));
    assert.equal((await gw.ssh('alice@root@web01', ['true']).done).code, 0, 'user@account@device picks the account');
  });

  test('exec: a command that ends at once still returns its status (30 at a time, each exact)', async () => {
    // A fast command's output, exit status and close can reach the gateway in the same read as the
    // channel confirmation; the status used to be lost then (ssh exited 255).
    const runs = await Promise.all(Array.from({ length: 30 }, (_, i) => gw.ssh('alice@web01', [`exit ${i + 1}`]).done));
    assert.deepEqual(
      runs.map((r) => r.code),
      Array.from({ length: 30 }, (_, i) => i + 1),
    );
  });

  test('exec: an exit signal comes back as the signal', async () => {
    const r = await gw.ssh('alice@web01', ['kill -TERM $$']).done;
    assert.equal(r.code, 255, 'OpenSSH exits 255 when the command died of a signal');
    const sig = await new Promise<unknown[]>((resolve, reject) => {
      const c = new ssh2.Client();
      c.on('ready', () =>
        c.exec('kill -USR1 $$', (err, ch) => {
          if (err) return reject(err);
          ch.on('exit', (...a: unknown[]) => resolve(a));
          ch.resume();
          ch.on('close', () => c.end());
        }),
      );
      c.on('error', reject);
      c.connect({ host: '127.0.0.1', port: gw.port, username: 'alice@web01', privateKey: gw.alice.private });
    });
    assert.equal(sig[0], null);
    assert.equal(sig[1], 'SIGUSR1');
  });

  test('env: only allow-listed variables reach the device', async () => {
    const r = await gw.ssh('alice@web01', ['echo "[$LANG][$SECRET_THING]"'], {
      extra: ['-o', 'SetEnv=LANG=C.UTF-8', '-o', 'SetEnv=SECRET_THING=x'],
    }).done;
    assert.equal(r.stdout.trim(), '[C.UTF-8][]');
  });

  test(
    'PTY shell with tmux: term type, size and window changes reach the device; exit returns the status',
    { skip: TMUX_SKIP },
    async () => {
      const t = new Tmux();
      try {
        // The shell around ssh prints its exit status: tmux's own pane_dead_status was sometimes empty
        // under load (the pane marked dead with no status recorded), which made this test flaky.
        t.start(
          `ssh -p ${gw.port} ${gw
            .opts()
            .map((a) => `'${a}'`)
            .join(' ')} -t alice@web01@127.0.0.1; echo "[ssh exited $?]"`,
          100,
          40,
        );
        await t.waitFor(/[#$] $/m);
        t.type('echo "T=$TERM S=$(stty size)"\n');
        await t.waitFor(new RegExp(`T=${t.defaultTerm()} S=40 100`));
        t.resize(120, 50);
        await new Promise((r) => setTimeout(r, 300));
        t.type('echo "S2=$(stty size)"\n');
        await t.waitFor(/S2=50 120/);
        t.type('exit 5\n');
        await t.waitFor(/\[ssh exited 5\]/);
      } finally {
        t.kill();
      }
    },
  );

  test('PTY with ssh -tt: the shell runs on a terminal', async () => {
    const p = launch('ssh', ['-tt', '-p', String(gw.port), ...gw.opts(), 'alice@web01@127.0.0.1']);
    await p.waitFor(/[#$] /);
    p.write('tty; exit 3\n');
    const r = await p.done;
    assert.equal(r.code, 3);
    assert.match(r.stdout, /\/dev\/pts\/\d+/);
  });

  test('sftp: put and get of a 50 MiB file, equal checksums; file operations are audited with paths', async () => {
    const src = join(work, 'big.bin');
    writeFileSync(src, randomBytes(50 * 1024 * 1024));
    const remote = `/tmp/gh-sftp-${randomBytes(4).toString('hex')}.bin`;
    const back = join(work, 'big.back');
    const t0 = Date.now();
    const r = await run('sftp', ['-P', String(gw.port), ...gw.opts(), '-b', '-', 'alice@web01@127.0.0.1'], {
      input: `put ${src} ${remote}\nget ${remote} ${back}\nrename ${remote} ${remote}.2\nmkdir ${remote}.d\nrmdir ${remote}.d\nchmod 600 ${remote}.2\nrm ${remote}.2\n`,
      timeoutMs: 120_000,
    });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(sha(back), sha(src));
    const secs = (Date.now() - t0) / 1000;
    assert.ok(secs < 60, `100 MiB of sftp took ${secs} s`);
    const audit = await gw.s.adminStore.listAudit({ limit: 50 });
    const ops = audit
      .filter((a) => a.action.startsWith('sftp.') && String(a.details.path).startsWith(remote))
      .map((a) => `${a.action} ${a.details.path} ${a.details.mode ?? ''}`.trim());
    for (const want of [
      `sftp.open ${remote} write`,
      `sftp.open ${remote} read`,
      `sftp.rename ${remote}`,
      `sftp.mkdir ${remote}.d`,
      `sftp.rmdir ${remote}.d`,
      `sftp.setstat ${remote}.2`,
      `sftp.remove ${remote}.2`,
    ])
      assert.ok(ops.includes(want), `audit has "${want}" (got ${ops.join('; ')})`);
    const rename = audit.find((a) => a.action === 'sftp.rename' && a.details.path === remote);
    assert.equal(rename?.details.to, `${remote}.2`);
    assert.equal(rename?.details.result, 'ok');
  });

  test('scp both ways (SFTP mode and the legacy protocol with -O)', async () => {
    const src = join(work, 'scp.bin');
    writeFileSync(src, randomBytes(2 * 1024 * 1024));
    const remote = `/tmp/gh-scp-${randomBytes(4).toString('hex')}.bin`;
    for (const legacy of [false, true]) {
      const flags = legacy ? ['-O'] : [];
      const up = await run('scp', [...flags, '-P', String(gw.port), ...gw.opts(), src, `alice@web01@127.0.0.1:${remote}`]);
      assert.equal(up.code, 0, up.stderr);
      const back = join(work, `scp.back${legacy ? '.legacy' : ''}`);
      const down = await run('scp', [...flags, '-P', String(gw.port), ...gw.opts(), `alice@web01@127.0.0.1:${remote}`, back]);
      assert.equal(down.code, 0, down.stderr);
      assert.equal(sha(back), sha(src));
    }
    await run('ssh', ['-p', String(gw.port), ...gw.opts(), 'alice@web01@127.0.0.1', `rm -f ${remote}`]);
  });

  test('agent forwarding is refused; X11 too', async () => {
    const r = await gw.ssh('alice@web01', ['echo "agent=[$SSH_AUTH_SOCK] x11=[$DISPLAY]"'], {
      extra: ['-A', '-X'],
      env: { SSH_AUTH_SOCK: '/tmp/nonexistent-agent.sock', DISPLAY: ':0' },
    }).done;
    assert.equal(r.code, 0);
    assert.match(r.stdout, /agent=\[\] x11=\[\]/);
    // The requests themselves get a refusal from the gateway.
    const refused = (opts: ssh2.ExecOptions, cfg: Partial<ssh2.ConnectConfig> = {}) =>
      new Promise<string>((resolve, reject) => {
        const c = new ssh2.Client();
        c.on('ready', () =>
          c.exec('true', opts, (err, ch) => {
            c.end();
            if (err) return resolve(err.message);
            ch.resume();
            resolve('accepted');
          }),
        );
        c.on('error', reject);
        c.connect({ host: '127.0.0.1', port: gw.port, username: 'alice@web01', privateKey: gw.alice.private, ...cfg });
      });
    assert.match(await refused({ agentForward: true } as ssh2.ExecOptions, { agent: '/tmp/nonexistent-agent.sock' }), /agent forwarding/i);
    assert.match(await refused({ x11: true }), /X11/i);
  });

  test('backpressure both ways: a reader that stops makes the transfer stop, not the gateway buffer', async () => {
    const live = async () => {
      for (let i = 0; i < 400 && gw.s.sessions.count() === 0; i++) await new Promise((r) => setTimeout(r, 25));
      return gw.s.sessions.ids()[0];
    };
    const bytes = async (id: number) => {
      await gw.s.sessions.flushBytes();
      const row = await dbOf(gw.s).selectFrom('sessions').select(['bytes_in', 'bytes_out']).where('id', '=', id).executeTakeFirstOrThrow();
      return { in: Number(row.bytes_in), out: Number(row.bytes_out) };
    };
    const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
    const mem = () => process.memoryUsage().arrayBuffers;

    // Download to a client that never reads its stdout.
    const down = launch('ssh', ['-p', String(gw.port), ...gw.opts(), 'alice@web01@127.0.0.1', 'cat /dev/zero'], { stalled: true });
    const id = await live();
    await sleep(1500);
    const a = await bytes(id);
    const m0 = mem();
    await sleep(1500);
    const b = await bytes(id);
    assert.ok(b.out - a.out < 1024 * 1024, `the device's output stopped (${a.out} then ${b.out} bytes)`);
    assert.ok(b.out < 64 * 1024 * 1024, `in flight: ${b.out} bytes`);
    assert.ok(mem() - m0 < 8 * 1024 * 1024);
    down.killAll();
    await down.done;
    for (let i = 0; i < 200 && gw.s.sessions.count() > 0; i++) await sleep(25);

    // Upload to a device that does not read for a while.
    const big = join(work, 'upload.bin');
    writeFileSync(big, Buffer.alloc(0));
    const fd = openSync(big, 'r+');
    ftruncateSync(fd, 512 * 1024 * 1024);
    closeSync(fd);
    const up = launch('sh', [
      '-c',
      `exec ssh -p ${gw.port} ${gw
        .opts()
        .map((x) => `'${x}'`)
        .join(' ')} alice@web01@127.0.0.1 'sleep 4; cat > /dev/null' < ${big}`,
    ]);
    const id2 = await live();
    await sleep(1200);
    const c = await bytes(id2);
    await sleep(1200);
    const d = await bytes(id2);
    assert.ok(d.in - c.in < 1024 * 1024, `the client's upload waited for the device (${c.in} then ${d.in} bytes)`);
    const r = await up.done;
    assert.equal(r.code, 0, 'and completed once the device read');
  });

  test('local port forwarding only when the access rule allows it', async () => {
    const banner = async (port: number) =>
      new Promise<string>((resolve) => {
        const s = connect({ host: '127.0.0.1', port }, () => {});
        let got = '';
        s.on('data', (d) => {
          got += d;
          if (got.includes('\n')) s.destroy();
        });
        s.on('close', () => resolve(got));
        s.on('error', () => resolve(got));
        setTimeout(() => s.destroy(), 3000);
      });
    const forward = async () => {
      const local = await freePort();
      const p = launch('ssh', [
        '-p',
        String(gw.port),
        ...gw.opts(['-o', 'ExitOnForwardFailure=yes']),
        '-N',
        '-L',
        `${local}:127.0.0.1:${sshd.port}`,
        'alice@web01@127.0.0.1',
      ]);
      // Wait for the local listener.
      for (let i = 0; i < 100; i++) {
        const up = await new Promise<boolean>((res) => {
          const s = connect({ host: '127.0.0.1', port: local }, () => {
            s.destroy();
            res(true);
          });
          s.on('error', () => res(false));
        });
        if (up) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      const got = await banner(local);
      p.proc.kill();
      await p.done;
      return got;
    };
    assert.equal(await forward(), '', 'no forwarding without the rule');
    await gw.s.admin.grantAccess(ADMIN, 'ops', 'linux', 'ssh,sftp', true);
    try {
      assert.match(await forward(), /^SSH-2.0-OpenSSH/, 'the rule allows it: the device-side port answers');
    } finally {
      await gw.s.admin.grantAccess(ADMIN, 'ops', 'linux', 'ssh,sftp', false);
    }
    const audit = await gw.s.adminStore.listAudit({ limit: 100 });
    assert.ok(audit.some((a) => a.action === 'ssh.forward.refused'));
    assert.ok(audit.some((a) => a.action === 'ssh.forward'));
  });

  test('each proxied connection is a session row with user, device, account, protocol, client, node, times and bytes', async () => {
    // The device reads the client's 5000 bytes to the end before answering, so every one is relayed.
    await gw.ssh('alice@web01', ['cat >/dev/null; head -c 100000 /dev/zero'], { input: 'x'.repeat(5000) }).done;
    await new Promise((r) => setTimeout(r, 200));
    const rows = await dbOf(gw.s).selectFrom('sessions').selectAll().orderBy('id', 'desc').limit(1).execute();
    const row = rows[0];
    const p = await gw.s.policy.current();
    assert.equal(row.user_id, p.usersByName.get('alice')!.id);
    assert.equal(row.device_id, p.devicesByName.get('web01')!.id);
    assert.equal(row.protocol, 'ssh');
    assert.equal(row.client_addr, '127.0.0.1');
    assert.equal(row.node_id, gw.s.nodeId);
    assert.ok(row.ended_at !== null && row.ended_at >= row.started_at);
    assert.equal(Number(row.bytes_out), 100000);
    assert.equal(Number(row.bytes_in), 5000, 'the bytes the client sent');
    assert.equal(gw.s.sessions.count(), 0, 'no live session left');
  });
});
