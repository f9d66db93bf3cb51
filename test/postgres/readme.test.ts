// The README's "Databases" commands through the real CLI (device add with --postgres-port and
// --mysql-port, the account's password from stdin, access grant, policy explain), then psql through a
// gateway on the same data directory: both target forms reach the device as the vaulted account.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gh, ghJson } from '../helpers/cli.js';
import { start, type Running } from '../../src/main.js';
import { ALICE_PW, APP_RW_PW, PG_PEER_SKIP, psql, startDevice, type Device } from './peer.js';

describe("the README's Databases commands, then psql", { skip: PG_PEER_SKIP }, () => {
  let dev: Device;
  let dir: string;
  let env: Record<string, string>;
  let g: Running | undefined;
  const outputs: string[] = [];
  before(async () => {
    dev = await startDevice();
    dir = mkdtempSync(join(tmpdir(), 'gh-pgreadme-'));
    env = { GATEHOUSE_DATA_DIR: dir, GATEHOUSE_LOG_LEVEL: 'silent', GATEHOUSE_ADMIN_PASSWORD: 'admin-pass-123' };
  });
  after(async () => {
    await g?.stop();
    dev?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const ok = async (args: string[], input?: string) => {
    const r = await gh(args, { env, input });
    outputs.push(r.stdout, r.stderr);
    assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };

  test('devices, the account and the grant as the README writes them', async () => {
    await ok(['user', 'add', 'alice', '--email', 'alice@example.com', '--password-stdin'], `${ALICE_PW}\n`);
    await ok(['group', 'add', 'dba']);
    await ok(['group', 'add-member', 'dba', 'alice']);
    await ok(['device-group', 'add', 'db']);
    await ok([
      'device',
      'add',
      'pgdb01',
      '--host',
      '127.0.0.1',
      '--protocols',
      'postgres',
      '--postgres-port',
      String(dev.port),
      '--group',
      'db',
    ]);
    await ok(['device', 'account', 'add', 'pgdb01', 'app_rw', '--password-stdin'], `${APP_RW_PW}\n`);
    await ok(['device', 'add', 'mdb01', '--host', '127.0.0.1', '--protocols', 'mysql', '--mysql-port', '3306', '--group', 'db']);
    await ok(['device', 'account', 'add', 'mdb01', 'app_rw', '--password-stdin'], `${APP_RW_PW}\n`);
    await ok(['access', 'grant', 'dba', 'db', '--protocols', 'postgres,mysql']);
    const devices = await ghJson<{ name: string; ports: Record<string, number> }[]>(['device', 'list'], { env });
    assert.deepEqual(devices.find((d) => d.name === 'pgdb01')?.ports, { postgres: dev.port });
    assert.deepEqual(devices.find((d) => d.name === 'mdb01')?.ports, { mysql: 3306 });
    const explain = await ok(['policy', 'explain', 'alice', 'pgdb01', '--protocol', 'postgres']);
    assert.match(explain, /alice -> pgdb01 \(postgres\): allowed/);
    const mysqlExplain = await ok(['policy', 'explain', 'alice', 'mdb01', '--protocol', 'mysql']);
    assert.match(mysqlExplain, /alice -> mdb01 \(mysql\): allowed/);
    for (const text of outputs) assert.ok(!text.includes(APP_RW_PW), 'the vaulted password was printed');
  });

  test('psql with user@device and user@account@device reaches the device as the vaulted account', async () => {
    g = await start({
      ...env,
      GATEHOUSE_WEB_PORT: '0',
      GATEHOUSE_SSH_PORT: '0',
      GATEHOUSE_RDP_PORT: '0',
      GATEHOUSE_HTTP_PROXY_PORT: '0',
      GATEHOUSE_POSTGRES_PORT: '0',
      GATEHOUSE_MYSQL_PORT: '0',
    });
    for (const user of ['alice@pgdb01', 'alice@app_rw@pgdb01']) {
      const r = await psql(g.postgresPort!, user, ALICE_PW, ['-At', '-c', 'select current_user']);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout.trim(), 'app_rw');
      assert.ok(!r.stdout.includes(APP_RW_PW) && !r.stderr.includes(APP_RW_PW));
    }
  });
});
