// Directory sync at size: N people (a manager tree 10 wide), N/10 groups nested three deep, against a
// real slapd; the first sync, a sync with nothing to do, and one after 5% of people changed or left.
// Also the cost of an LDAP login (a bind) and of a TOTP check. `npm run bench -- directory [N]`.
import { generate } from 'otplib';
import { directoryOf } from '../src/directory/index.js';
import { ADMIN, testServices } from './lib/services.js';
import { GROUPS, PEOPLE, SYNC_DN, SYNC_PW, addPerson, dnOf, gdnOf, pwOf, replace, startSlapd } from './lib/slapd.js';

const N = Number(process.argv[2] ?? 2000);
const ms = (t0: bigint) => Number(process.hrtime.bigint() - t0) / 1e6;

const ldap = await startSlapd();
const t = await testServices('sqlite', { real: true });
try {
  const c = await ldap.admin();
  let t0 = process.hrtime.bigint();
  for (let i = 0; i < N; i++) await addPerson(c, `p${i}`, `Person ${i}`, i === 0 ? null : `p${Math.floor((i - 1) / 10)}`);
  const G = Math.max(3, Math.floor(N / 10));
  for (let g = G - 1; g >= 0; g--) {
    const members = Array.from({ length: 10 }, (_, k) => dnOf(`p${(g * 10 + k) % N}`));
    if (g * 3 + 1 < G) members.push(gdnOf(`g${g * 3 + 1}`));
    await c.add(gdnOf(`g${g}`), { objectClass: ['groupOfNames'], cn: `g${g}`, member: members, owner: dnOf(`p${g}`) });
  }
  console.log(`loaded ${N} people and ${G} groups into slapd in ${ms(t0).toFixed(0)} ms`);
  const d = directoryOf(t.s).directory;
  await d.configure(ADMIN, { url: ldap.url, bindDn: SYNC_DN, userBase: PEOPLE, groupBase: GROUPS, intervalMinutes: 0 }, SYNC_PW);
  t0 = process.hrtime.bigint();
  const first = await d.sync(ADMIN);
  console.log(
    `first sync: ${first.summary.users.added.length} users, ${first.summary.groups.added.length} groups in ${ms(t0).toFixed(0)} ms`,
  );
  t0 = process.hrtime.bigint();
  const none = await d.sync(ADMIN);
  console.log(`sync with nothing to change: applied=${none.applied} in ${ms(t0).toFixed(0)} ms`);
  const k = Math.floor(N / 20);
  for (let i = 1; i <= k; i++) {
    if (i % 2) await c.del(dnOf(`p${N - i}`));
    else await replace(c, dnOf(`p${N - i}`), 'mail', [`changed${i}@example.com`]);
  }
  await c.unbind();
  t0 = process.hrtime.bigint();
  const changed = await d.sync(ADMIN);
  console.log(
    `sync after ${k} changes: ${changed.summary.users.disabled.length} disabled, ${changed.summary.users.changed.length} changed in ${ms(t0).toFixed(0)} ms`,
  );

  const p5 = (await t.s.policy.current()).usersByName.get('p5')!;
  t0 = process.hrtime.bigint();
  for (let i = 0; i < 50; i++) if (!(await t.s.auth.verifyPassword('p5', pwOf('p5')))) throw new Error('login failed');
  console.log(`LDAP login (bind as the user, new connection each): ${(ms(t0) / 50).toFixed(1)} ms each`);
  const totp = directoryOf(t.s).totp;
  const e = await totp.begin(p5);
  await totp.confirm(p5, await generate({ secret: e.secret, epoch: Math.floor(Date.now() / 1000) - 30 }));
  t0 = process.hrtime.bigint();
  for (let i = 0; i < 200; i++) await t.s.auth.verifyTotp(p5, '000000');
  console.log(`TOTP check (wrong code, full path incl. database): ${(ms(t0) / 200).toFixed(2)} ms each`);
} finally {
  await t.cleanup();
  await ldap.stop();
}
