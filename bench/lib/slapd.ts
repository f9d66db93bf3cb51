// A throw-away OpenLDAP (Debian's slapd) on 127.0.0.1 with a free port, a temp config and database,
// the memberof overlay, and a small organisation loaded through the server (so memberOf is maintained).
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Attribute, Change, Client } from 'ldapts';
import { hasBinary } from './peers.js';
import { freePort } from './net.js';

export const SLAPD = ['/usr/sbin/slapd', 'slapd'].find((p) => existsSync(p) || hasBinary(p)) ?? null;
export const BASE = 'dc=example,dc=com';
export const ROOT_DN = `cn=admin,${BASE}`;
export const ROOT_PW = 'root-secret';
export const SYNC_DN = `cn=gatehouse,${BASE}`;
export const SYNC_PW = 'sync-secret';
export const PEOPLE = `ou=people,${BASE}`;
export const GROUPS = `ou=groups,${BASE}`;
export const dnOf = (uid: string) => `uid=${uid},${PEOPLE}`;
export const gdnOf = (cn: string) => `cn=${cn},${GROUPS}`;
/** Every person's password in the fixture. */
export const pwOf = (uid: string) => `${uid}-Dir-pw1`;

export interface Slapd {
  url: string;
  port: number;
  /** With `tls`: ldaps:// on its own port, and the CA file that signed the server's certificate. */
  ldapsUrl?: string;
  caFile?: string;
  /** A client bound as the root DN, for changing the directory during a test. */
  admin(): Promise<Client>;
  stop(): Promise<void>;
}

/** A CA and a server certificate for 127.0.0.1 (openssl), for ldaps and StartTLS. */
function makeCerts(dir: string): { ca: string; cert: string; key: string } {
  const f = (n: string) => join(dir, n);
  const ossl = (args: string[]) => execFileSync('openssl', args, { stdio: 'ignore' });
  ossl([
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-days',
    '1',
    '-subj',
    '/CN=Gatehouse Test CA',
    '-keyout',
    f('ca.key'),
    '-out',
    f('ca.pem'),
  ]);
  ossl(['req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=127.0.0.1', '-keyout', f('server.key'), '-out', f('server.csr')]);
  writeFileSync(f('ext.cnf'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  ossl([
    'x509',
    '-req',
    '-in',
    f('server.csr'),
    '-CA',
    f('ca.pem'),
    '-CAkey',
    f('ca.key'),
    '-CAcreateserial',
    '-days',
    '1',
    '-extfile',
    f('ext.cnf'),
    '-out',
    f('server.pem'),
  ]);
  return { ca: f('ca.pem'), cert: f('server.pem'), key: f('server.key') };
}

export const POLICY_DN = `cn=default,ou=policies,${BASE}`;

/** `ppolicy`: the password-policy overlay locks an account after 3 wrong binds (the directory's lockout). */
export async function startSlapd(opts: { tls?: boolean; ppolicy?: boolean } = {}): Promise<Slapd> {
  if (!SLAPD) throw new Error('slapd not installed');
  const dir = mkdtempSync(join(tmpdir(), 'gh-slapd-'));
  mkdirSync(join(dir, 'db'));
  const certs = opts.tls ? makeCerts(dir) : null;
  const conf = join(dir, 'slapd.conf');
  writeFileSync(
    conf,
    [
      'include /etc/ldap/schema/core.schema',
      'include /etc/ldap/schema/cosine.schema',
      'include /etc/ldap/schema/inetorgperson.schema',
      'modulepath /usr/lib/ldap',
      'sizelimit unlimited',
      ...(certs ? [`TLSCACertificateFile ${certs.ca}`, `TLSCertificateFile ${certs.cert}`, `TLSCertificateKeyFile ${certs.key}`] : []),
      'moduleload back_mdb',
      'moduleload memberof',
      ...(opts.ppolicy ? ['moduleload ppolicy'] : []),
      `pidfile ${dir}/slapd.pid`,
      `argsfile ${dir}/slapd.args`,
      'database mdb',
      'maxsize 10485760',
      `suffix "${BASE}"`,
      `rootdn "${ROOT_DN}"`,
      `rootpw ${ROOT_PW}`,
      `directory ${dir}/db`,
      'overlay memberof',
      ...(opts.ppolicy ? ['overlay ppolicy', `ppolicy_default "${POLICY_DN}"`, 'ppolicy_use_lockout'] : []),
      'access to attrs=userPassword by self write by anonymous auth by * none',
      'access to * by * read',
      '',
    ].join('\n'),
  );
  let proc: ChildProcess | null = null;
  let port = 0;
  let url = '';
  let ldapsUrl: string | undefined;
  for (let attempt = 0; attempt < 5 && !proc; attempt++) {
    port = await freePort();
    url = `ldap://127.0.0.1:${port}`;
    ldapsUrl = certs ? `ldaps://127.0.0.1:${await freePort()}` : undefined;
    const p = spawn(
      SLAPD,
      [
        '-d',
        '0',
        '-h',
        [url, ldapsUrl]
          .filter(Boolean)
          .map((u) => `${u}/`)
          .join(' '),
        '-f',
        conf,
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let err = '';
    p.stderr!.on('data', (d) => (err += String(d)));
    if (await waitUp(url, p)) proc = p;
    else {
      p.kill('SIGKILL');
      if (attempt === 4) throw new Error(`slapd did not start: ${err.slice(-500)}`);
    }
  }
  const admin = async () => {
    const c = new Client({ url, timeout: 5000, connectTimeout: 5000 });
    await c.bind(ROOT_DN, ROOT_PW);
    return c;
  };
  const c = await admin();
  try {
    await loadOrg(c);
    if (opts.ppolicy) {
      await c.add(`ou=policies,${BASE}`, { objectClass: ['organizationalUnit'], ou: 'policies' });
      await c.add(POLICY_DN, {
        objectClass: ['organizationalRole', 'pwdPolicy'],
        cn: 'default',
        pwdAttribute: 'userPassword',
        pwdMaxFailure: '3',
        pwdLockout: 'TRUE',
        pwdLockoutDuration: '0',
      });
    }
  } finally {
    await c.unbind();
  }
  return {
    url,
    port,
    ldapsUrl,
    caFile: certs?.ca,
    admin,
    async stop() {
      const p = proc!;
      if (p.exitCode === null) {
        const gone = new Promise((r) => p.once('exit', r));
        p.kill('SIGTERM');
        await Promise.race([gone, new Promise((r) => setTimeout(r, 3000))]);
        if (p.exitCode === null) p.kill('SIGKILL');
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function waitUp(url: string, p: ChildProcess): Promise<boolean> {
  for (let i = 0; i < 100; i++) {
    if (p.exitCode !== null) return false;
    const c = new Client({ url, timeout: 1000, connectTimeout: 1000 });
    try {
      await c.bind(ROOT_DN, ROOT_PW);
      await c.unbind();
      return true;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return false;
}

export async function addPerson(c: Client, uid: string, cn: string, manager: string | null, mail = `${uid}@example.com`): Promise<void> {
  await c.add(dnOf(uid), {
    objectClass: ['inetOrgPerson'],
    uid,
    cn,
    sn: cn.split(' ').pop()!,
    mail,
    userPassword: pwOf(uid),
    ...(manager ? { manager: dnOf(manager) } : {}),
  });
}

export async function addGroup(c: Client, cn: string, members: string[], owner?: string): Promise<void> {
  await c.add(gdnOf(cn), { objectClass: ['groupOfNames'], cn, member: members, ...(owner ? { owner } : {}) });
}

/**
 * The organisation: carol (top) → bob → alice and dave; erin reports to alice. Groups: `oncall` (dave),
 * `ops` (alice + the oncall group; owner bob), `engineering` (the ops group: nested two deep; owner the
 * `leads` group), `leads` (bob, carol).
 */
async function loadOrg(c: Client): Promise<void> {
  await c.add(BASE, { objectClass: ['dcObject', 'organization'], dc: 'example', o: 'Example' });
  await c.add(SYNC_DN, { objectClass: ['organizationalRole', 'simpleSecurityObject'], cn: 'gatehouse', userPassword: SYNC_PW });
  await c.add(PEOPLE, { objectClass: ['organizationalUnit'], ou: 'people' });
  await c.add(GROUPS, { objectClass: ['organizationalUnit'], ou: 'groups' });
  await addPerson(c, 'carol', 'Carol Chief', null);
  await addPerson(c, 'bob', 'Bob Boss', 'carol');
  await addPerson(c, 'alice', 'Alice Admin', 'bob');
  await addPerson(c, 'dave', 'Dave Dev', 'bob');
  await addPerson(c, 'erin', 'Erin Eng', 'alice');
  await addGroup(c, 'oncall', [dnOf('dave')]);
  await addGroup(c, 'ops', [dnOf('alice'), gdnOf('oncall')], dnOf('bob'));
  await addGroup(c, 'leads', [dnOf('bob'), dnOf('carol')]);
  await addGroup(c, 'engineering', [gdnOf('ops')], gdnOf('leads'));
}

export async function replace(c: Client, dn: string, type: string, values: string[]): Promise<void> {
  await c.modify(dn, new Change({ operation: 'replace', modification: new Attribute({ type, values }) }));
}

export async function addValue(c: Client, dn: string, type: string, value: string): Promise<void> {
  await c.modify(dn, new Change({ operation: 'add', modification: new Attribute({ type, values: [value] }) }));
}
