// Admin experience for people, in Chromium at 1280x800 and 390x844: type-ahead pickers that offer only
// what exists, every error at its field at once, the user-group wizard's all-or-nothing save (a stale
// member injected into the request leaves no half-made group), the no-manager warning, and the Action
// menus by keyboard. Every control used lies inside the viewport; axe stays clean.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import { PW, startServer, type Server } from '../api/helpers.js';
import { SKIP, axe, ensureConsoleBuilt, launch, shot, logIn } from './browser.js';

const SIZES = [
  { name: 'laptop', width: 1280, height: 800 },
  { name: 'phone', width: 390, height: 844 },
] as const;

/** The control, scrolled to if needed, lies wholly inside the viewport (no sideways scrolling). */
async function inView(page: Page, l: Locator, what: string): Promise<void> {
  await l.scrollIntoViewIfNeeded();
  const box = await l.boundingBox();
  const vp = page.viewportSize()!;
  assert.ok(box, `${what} is shown`);
  assert.ok(
    box.x >= 0 && box.y >= 0 && box.x + box.width <= vp.width + 0.5 && box.y + box.height <= vp.height + 0.5,
    `${what} inside ${vp.width}x${vp.height}: ${JSON.stringify(box)}`,
  );
}

async function clean(page: Page, where: string): Promise<void> {
  assert.deepEqual(await axe(page), [], `axe on ${where}`);
}

describe('admin: people, pickers and the all-or-nothing wizard (Chromium)', { skip: SKIP }, () => {
  let srv: Server;
  let browser: Browser;
  const contexts: BrowserContext[] = [];
  const open = async (size: (typeof SIZES)[number], path: string): Promise<Page> => {
    const ctx = await browser.newContext({ viewport: { width: size.width, height: size.height }, bypassCSP: true });
    contexts.push(ctx);
    const page = await ctx.newPage();
    await logIn(page, srv.base, 'admin', PW);
    await page.goto(srv.base + path);
    await page.getByRole('heading', { level: 1 }).waitFor();
    return page;
  };

  before(async () => {
    ensureConsoleBuilt();
    srv = await startServer('sqlite');
    browser = await launch();
  });
  after(async () => {
    for (const c of contexts) await c.close().catch(() => {});
    await browser?.close();
    await srv?.stop();
  });

  for (const size of SIZES) {
    test(`${size.name}: Users' Action menu by keyboard; pickers for the line manager and groups offer only what exists`, async () => {
      const page = await open(size, '/users');
      const action = page.getByRole('button', { name: 'Action for user hank' });
      await inView(page, action, 'Action button');
      await action.focus();
      await page.keyboard.press('Enter');
      const item = page.getByRole('menuitem', { name: 'Edit' });
      await item.waitFor();
      assert.equal(await page.evaluate('document.activeElement.textContent'), 'Edit', 'the first item has focus');
      await inView(page, item, 'Edit menu item');
      await page.keyboard.press('Enter');
      await page.getByRole('heading', { name: 'Edit user hank' }).waitFor();
      assert.match(page.url(), /[?&]edit=hank/, 'the form has a URL');

      const manager = page.getByRole('combobox', { name: 'Line manager' });
      await manager.fill('ghost');
      await page.getByText("No user matches 'ghost'.").waitFor();
      await manager.fill('eri');
      const option = page.getByRole('option', { name: 'erin' });
      await inView(page, option, 'manager suggestion');
      await clean(page, `user form with suggestions (${size.name})`);
      await manager.press('Enter');
      assert.equal(await manager.inputValue(), 'erin');

      const groups = page.getByRole('combobox', { name: 'User groups' });
      assert.equal(await page.getByRole('button', { name: 'Remove dba' }).count(), 1, 'hank is in dba');
      await groups.fill('op');
      await groups.press('ArrowDown');
      await groups.press('ArrowUp');
      await groups.press('Enter');
      await page.getByRole('button', { name: 'Remove ops' }).waitFor();
      await page.getByRole('button', { name: 'Remove dba' }).click();
      await groups.fill('nosuch');
      await groups.blur();
      assert.equal(await groups.inputValue(), '', 'a name that does not exist is not kept');
      await inView(page, groups, 'groups picker');
      await shot(page, `people-pickers-${size.name}`);
      const save = page.getByRole('button', { name: 'Save' });
      await inView(page, save, 'Save');
      await save.click();
      await page.getByRole('heading', { name: 'Edit user hank' }).waitFor({ state: 'detached' });
      const p = await srv.running.services.policy.current();
      const hank = p.usersByName.get('hank')!;
      assert.equal(p.userName(hank.managerId!), 'erin');
      assert.deepEqual(
        [...p.userGroupsById.values()].filter((g) => g.memberIds.includes(hank.id)).map((g) => g.name),
        ['ops'],
      );
      // Restore for the next size.
      await srv.running.services.admin.setUser({ username: 'admin', id: null, channel: 'cli' }, 'hank', { manager: null, groups: ['dba'] });
    });

    test(`${size.name}: every error at its field at once, in words`, async () => {
      const page = await open(size, '/users?edit=new');
      await page.getByRole('heading', { name: 'Add user' }).waitFor();
      await page.getByLabel('Email').fill('not-an-email');
      await page.getByLabel('Password', { exact: true }).fill('short');
      await page.getByRole('button', { name: 'Save' }).click();
      const username = page.getByLabel('Username', { exact: true });
      await page.getByText('Username is required').waitFor();
      await page.getByText('Password needs at least 8 characters').waitFor();
      assert.equal(await username.getAttribute('aria-invalid'), 'true');
      const described = (await username.getAttribute('aria-describedby'))!.split(' ').pop();
      assert.equal(await page.locator(`[id="${described}"]`).innerText(), 'Username is required');
      assert.equal(await page.getByText(/must NOT|must have required|body\//).count(), 0, 'no schema text');
      await username.fill(`newbie-${size.name}`);
      await page.getByLabel('Password', { exact: true }).fill('longenough');
      await page.getByRole('button', { name: 'Save' }).click();
      await page.getByText('Email must be an email address').waitFor();
      await inView(page, page.getByText('Email must be an email address'), 'email error');
      await clean(page, `user form with errors (${size.name})`);
    });

    test(`${size.name}: the wizard saves all or nothing, and warns before approval with no manager`, async () => {
      const name = `team-${size.name}`;
      const page = await open(size, '/users/groups');
      await page.getByRole('button', { name: 'Add Group' }).click();
      await page.getByLabel('Group name').fill(name);
      await page.getByRole('button', { name: 'Next' }).click();
      const members = page.getByRole('combobox', { name: 'Members' });
      await members.fill('ali');
      await inView(page, page.getByRole('option', { name: 'alice' }), 'member suggestion');
      await members.press('Enter');
      await members.fill('dav');
      await page.getByRole('option', { name: 'dave' }).click();
      await page.getByRole('button', { name: 'Remove dave' }).waitFor();
      assert.match(page.url(), /step=members/, 'the step has a URL');
      await clean(page, `wizard members (${size.name})`);
      await page.getByRole('button', { name: 'Next' }).click();
      await page.getByLabel('Required Managerial Approval from the Group Manager').check();
      await page.getByText('This group has no manager').waitFor();
      const save = page.getByRole('button', { name: 'Save anyway' });
      await inView(page, save, 'Save anyway');

      // A member who vanished while the wizard was open (a stale picker): the save must fail whole.
      await page.route('**/api/v1/user-groups', async (route) => {
        const body = JSON.parse(route.request().postData() ?? '{}');
        await route.continue({ postData: JSON.stringify({ ...body, members: [...body.members, 'ghost'] }) });
      });
      await save.click();
      await page.getByRole('heading', { name: 'Members', level: 3 }).waitFor();
      await page.getByText("No user named 'ghost'").waitFor();
      assert.equal(await members.getAttribute('aria-invalid'), 'true');
      assert.equal((await srv.running.services.policy.current()).userGroupsByName.has(name), false, 'no half-made group');
      assert.equal(await page.getByRole('row').filter({ hasText: name }).count(), 0, 'nor in the table');
      await shot(page, `people-wizard-error-${size.name}`);
      await clean(page, `wizard error (${size.name})`);
      await page.unroute('**/api/v1/user-groups');

      await page.getByRole('button', { name: 'Next' }).click();
      await page.getByRole('button', { name: 'Save anyway' }).click();
      await page.getByRole('row').filter({ hasText: name }).waitFor();
      const g = (await srv.running.services.policy.current()).userGroupsByName.get(name)!;
      assert.deepEqual([g.memberIds.length, g.requireApproval, g.managerIds.length], [2, true, 0]);
    });

    test(`${size.name}: the Edit Group action opens the wizard by URL; going elsewhere closes it`, async () => {
      const page = await open(size, '/users/groups');
      await page.getByRole('button', { name: 'Action for group ops' }).click();
      await page.getByRole('menuitem', { name: 'Edit Group' }).click();
      await page.getByRole('heading', { name: 'Edit Group ops' }).waitFor();
      await page.getByRole('button', { name: 'Next' }).click();
      await page.getByRole('combobox', { name: 'Members' }).waitFor();
      const url = page.url();
      const nav = async () => {
        if (size.name === 'phone') await page.getByRole('button', { name: /^Menu/ }).click();
      };
      await nav();
      await page.getByRole('link', { name: 'Users', exact: true }).click();
      await page.getByRole('heading', { level: 1, name: 'Users' }).waitFor();
      await page.goBack();
      await page.getByRole('heading', { name: 'Edit Group ops' }).waitFor();
      assert.equal(page.url(), url);
      await nav();
      await page.getByRole('link', { name: 'User Groups' }).click();
      await page.getByRole('heading', { name: 'Edit Group ops' }).waitFor({ state: 'detached' });
    });
  }
});
