// SSH login through a link with real peers: stock ssh, sftp and scp run in tmux (the prompt reaches
// their terminal), Chromium logs in to the console with a password at the printed link and confirms,
// and the SSH login finishes on Enter. Also: bob refused at alice's link, a used link, an expired one,
// API tokens refused, and 20 parallel confirmations through HTTP with one success.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import ssh2 from 'ssh2';
import { SSHD_SKIP, startSshd, type Sshd } from '../ssh/peers.js';
import { PASSWORD, startGateway, type Gw } from '../ssh/gateway.js';
import { TMUX_SKIP, Tmux } from '../ssh/tmux.js';
import { SKIP, axe, ensureConsoleBuilt, launch, logIn, shot } from '../web/browser.js';
import { login } from '../../bench/lib/api.js';

const PASSWORDS: Record<string, string> = { admin: 'admin-pass-123', bob: 'bob-S3cret-pass', alice: PASSWORD };
/** One ssh2 login as `username`: the keyboard-interactive prompt it got (then it leaves), or why it ended. */
function promptOf(port: number, username: string): Promise<{ prompt: string | null; error: string }> {
  return new Promise((resolve) => {
    const c = new ssh2.Client();
    let settled = false;
    const done = (prompt: string | null, error = '') => {
      if (settled) return;
      settled = true;
      c.end();
      resolve({ prompt, error });
    };
    c.on('error', (e) => done(null, String(e.message)));
    c.on('close', () => done(null, 'closed'));
    c.on('keyboard-interactive', (_n, _i, _l, prompts) => done(prompts[0]?.prompt ?? ''));
    c.connect({ host: '127.0.0.1', port, username, tryKeyboard: true, readyTimeout: 60_000 });
  });
}

const ASKED_TWICE = /(to sign in, then press Enter[^]*){2}/;
const LINK = /Open (http:\/\/\S+\/sso\/ssh\/[A-Z]{4}-[A-Z]{4}) to sign in, then press Enter/;

describe(
  'SSH login through a console link: ssh, sftp and scp in tmux, Chromium at the link',
  { skip: SKIP || SSHD_SKIP || TMUX_SKIP },
  () => {
    let sshd: Sshd;
    let gw: Gw;
    let browser: Browser;
    let base: string;
    let work: string;
    const contexts: BrowserContext[] = [];
    const terms: Tmux[] = [];

    /** `tool` with the gateway's options (interactive: no batch mode), in a fresh tmux pane that reports the exit status. */
    const term = (tool: 'ssh' | 'sftp' | 'scp', args: string[]): Tmux => {
      const t = new Tmux();
      terms.push(t);
      const port = tool === 'ssh' ? ['-p', String(gw.port)] : ['-P', String(gw.port)];
      const q = (a: string) => `'${a.replace(/'/g, `'\\''`)}'`;
      t.start(`${tool} ${[...port, ...gw.opts(['-o', 'BatchMode=no']), ...args].map(q).join(' ')}; echo "[${tool} exited $?]"`, 220, 40);
      return t;
    };
    const linkOf = async (t: Tmux) => LINK.exec(await t.waitFor(LINK))![1];
    const browse = async (username: string, url: string): Promise<Page> => {
      // bypassCSP: axe-core is injected as an inline script.
      const ctx = await browser.newContext({ viewport: { width: 1100, height: 800 }, bypassCSP: true });
      contexts.push(ctx);
      const page = await ctx.newPage();
      await logIn(page, base, username, PASSWORDS[username], new URL(url).pathname);
      return page;
    };
    const confirmAt = async (url: string, username = 'alice'): Promise<Page> => {
      const page = await browse(username, url);
      await page.getByRole('heading', { name: 'An SSH login waits for you' }).waitFor();
      await page.getByRole('button', { name: 'Sign in to SSH' }).click();
      await page.getByText('Signed in. Go back to your terminal and press Enter.').waitFor();
      return page;
    };
    const audits = (action: string) => gw.s.adminStore.listAudit({ limit: 50, action });

    before(async () => {
      ensureConsoleBuilt();
      sshd = await startSshd();
      gw = await startGateway(sshd, { approval: false });
      base = `http://127.0.0.1:${gw.g.webPort}`;
      work = mkdtempSync(join(tmpdir(), 'gh-sshsso-'));
      browser = await launch();
      // The admin's switch, through the API: ops (alice) logs in over SSH through the console.
      const admin = await login(base, 'admin', PASSWORDS.admin);
      const r = await admin.put('/api/v1/ssh-sso/groups/ops', { method: 'sso' });
      assert.equal(r.status, 200, r.text);
      assert.deepEqual((await admin.get('/api/v1/ssh-sso/groups')).body, { items: [{ group: 'ops', method: 'sso' }] });
      assert.equal((await (await login(base, 'bob', PASSWORDS.bob)).put('/api/v1/ssh-sso/groups/ops', { method: null })).status, 403);
    });
    after(async () => {
      for (const t of terms) t.kill();
      for (const c of contexts) await c.close().catch(() => {});
      await browser?.close();
      await gw?.stop();
      await sshd?.stop();
      if (work) rmSync(work, { recursive: true, force: true });
    });

    test('ssh: the prompt prints the link; Enter too early asks again; after Chromium confirms, Enter runs the command', async () => {
      const t = term('ssh', ['alice@web01@127.0.0.1', 'echo linked-$((40+2))']);
      const url = await linkOf(t);
      assert.ok(url.startsWith(`${base}/sso/ssh/`), url);
      assert.ok(t.screen().includes(`Open ${url} to sign in, then press Enter`), 'the exact prompt text');
      t.keys('Enter');
      await t.waitFor(ASKED_TWICE);
      assert.doesNotMatch(t.screen(), /\[ssh exited/);

      const page = await confirmAt(url);
      assert.match(await page.locator('dl').innerText(), /alice[^]*127\.0\.0\.1[^]*\d:\d\d/);
      assert.deepEqual(await axe(page), []);
      await shot(page, 'ssh-link-confirmed');
      t.keys('Enter');
      await t.waitFor(/linked-42/);
      await t.waitFor(/\[ssh exited 0\]/);
      const sshLogin = (await audits('ssh.login')).find((a) => a.details.method === 'sso');
      assert.equal(sshLogin?.actor, 'alice');
      assert.equal((await audits('ssh.sso.used'))[0].actor, 'alice');

      // The same link again: the page says it was used; the API refuses a second confirmation.
      const again = await browse('alice', url);
      await again.getByText('This link was already used.').waitFor();
      const alice = await login(base, 'alice', PASSWORDS.alice);
      const r = await alice.post(`/api/v1/ssh-sso/${url.split('/').pop()}/confirm`);
      assert.equal(r.status, 409, r.text);
      assert.match(r.body.error.message, /already used/);
    });

    test('sftp in tmux: the link, then an interactive sftp session', async () => {
      const t = term('sftp', ['alice@web01@127.0.0.1']);
      await confirmAt(await linkOf(t));
      t.keys('Enter');
      await t.waitFor(/sftp> $/m);
      t.type('pwd\n');
      await t.waitFor(/Remote working directory: \//);
      t.type('bye\n');
      await t.waitFor(/\[sftp exited 0\]/);
    });

    test('scp in tmux: the link, then the file is copied', async () => {
      const src = join(work, 'hello.txt');
      const remote = join(work, 'copied.txt');
      writeFileSync(src, 'through the link\n');
      const t = term('scp', [src, `alice@web01@127.0.0.1:${remote}`]);
      await confirmAt(await linkOf(t));
      t.keys('Enter');
      await t.waitFor(/\[scp exited 0\]/);
      assert.equal(readFileSync(remote, 'utf8'), 'through the link\n');
    });

    test("bob at alice's link: a clear refusal, audited; alice's ssh still waits", async () => {
      const t = term('ssh', ['alice@web01@127.0.0.1', 'echo never']);
      const url = await linkOf(t);
      const page = await browse('bob', url);
      await page.getByText("This sign-in link is for another user's SSH login, not for bob.", { exact: false }).waitFor();
      assert.equal(await page.getByRole('button', { name: 'Sign in to SSH' }).count(), 0);
      const refused = (await audits('ssh.sso.refused')).find((a) => a.actor === 'bob');
      assert.equal(refused?.targetId, 'alice');
      assert.equal(refused?.details.why, 'another user');
      const bob = await login(base, 'bob', PASSWORDS.bob);
      assert.equal((await bob.post(`/api/v1/ssh-sso/${url.split('/').pop()}/confirm`)).status, 403);
      t.keys('Enter');
      await t.waitFor(ASKED_TWICE);
      assert.doesNotMatch(t.screen(), /never|\[ssh exited/);
      // Ends the client by closing its terminal; what this test checks is asserted above.
      t.kill();
    });

    test('an expired link (short life through the hook) fails closed on both sides', async () => {
      gw.s.sshSso.ttlMs = 1500;
      try {
        const t = term('ssh', ['alice@web01@127.0.0.1', 'echo never']);
        const url = await linkOf(t);
        await new Promise((r) => setTimeout(r, 1700));
        const page = await browse('alice', url);
        await page.getByText('This link has expired.').waitFor();
        t.keys('Enter');
        await t.waitFor(/The sign-in link expired before it was used/);
        await t.waitFor(/\[ssh exited [1-9]\d*\]/);
        assert.doesNotMatch(t.screen(), /never/);
        assert.ok((await audits('ssh.sso.refused')).some((a) => a.details.why === 'expired'));
      } finally {
        gw.s.sshSso.ttlMs = 5 * 60_000;
      }
    });

    test('HTTP: 20 parallel confirmations of one link, one success; an API token is refused', async () => {
      const { code } = await gw.s.sshSso.issue('alice', '192.0.2.1');
      const alice = await login(base, 'alice', PASSWORDS.alice);
      const tok = await alice.post('/api/v1/tokens', { name: 'script' });
      assert.equal(tok.status, 201, tok.text);
      const viaToken = await fetch(`${base}/api/v1/ssh-sso/${code}/confirm`, {
        method: 'POST',
        headers: { authorization: `Bearer ${tok.body.token}` },
      });
      assert.equal(viaToken.status, 403);
      const res = await Promise.all(Array.from({ length: 20 }, () => alice.post(`/api/v1/ssh-sso/${code}/confirm`)));
      assert.deepEqual(res.map((r) => r.status).sort(), [200, ...Array(19).fill(409)], res.map((r) => r.text).join('\n'));
      assert.equal((await audits('ssh.sso.confirmed')).filter((a) => a.details.sshClientAddr === '192.0.2.1').length, 1);
    });

    // Last: it spends alice's login attempts for this window.
    test('issuing is limited like password attempts: 20 parallel connections, at most 5 links for one name', async () => {
      const before = (await audits('ssh.sso.issued')).filter((a) => a.actor === 'alice').length;
      const res = await Promise.all(Array.from({ length: 20 }, () => promptOf(gw.port, 'alice@web01')));
      const prompted = res.filter((r) => r.prompt !== null);
      assert.ok(prompted.length >= 1 && prompted.length <= 5, `${prompted.length} links printed`);
      for (const r of prompted) assert.match(r.prompt!, LINK);
      const issued = (await audits('ssh.sso.issued')).filter((a) => a.actor === 'alice').length - before;
      assert.equal(issued, prompted.length);
      assert.equal((await audits('ssh.login.blocked')).filter((a) => a.actor === 'alice').length, 1, 'the first refusal is audited');
    });
  },
);
