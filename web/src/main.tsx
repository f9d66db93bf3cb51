// The console: login, then the guide's navigation (Users, Devices > Inventory, Approval Workflows,
// System Parameters, My Approvals, Approval Requests, Connect, Sessions, Audit log). Routes live after
// '#', so the server only serves index.html and the API.
import { StrictMode, useEffect, useState, type ReactNode } from 'react';
import { createRoot } from 'react-dom/client';
import { ApiError, del, get, post, setCsrf } from './api';
import type { Me } from './types';
import { Field, FormError, startLive, useForm } from './ui';
import { UsersPage } from './pages/Users';
import { UserGroupsPage } from './pages/UserGroups';
import { InventoryPage } from './pages/Inventory';
import { DevicePage } from './pages/Device';
import { WorkflowsPage } from './pages/Workflows';
import { ParamsPage } from './pages/Params';
import { MyApprovalsPage } from './pages/MyApprovals';
import { ApprovalRequestsPage } from './pages/ApprovalRequests';
import { ConnectPage } from './pages/Connect';
import { SessionsPage } from './pages/Sessions';
import { AuditPage } from './pages/Audit';
import { ReportsPage } from './pages/Reports';
import { TokensPage } from './pages/Tokens';
import './styles.css';

interface NavItem {
  path: string;
  label: string;
  show: (m: Me) => boolean;
  sub?: boolean;
}
const admin = (m: Me) => m.roles.admin;
const NAV: NavItem[] = [
  { path: '/users', label: 'Users', show: admin },
  { path: '/users/groups', label: 'User Groups', show: admin, sub: true },
  { path: '/devices/inventory', label: 'Devices › Inventory', show: admin },
  { path: '/workflows', label: 'Approval Workflows', show: admin },
  { path: '/params', label: 'System Parameters', show: admin },
  { path: '/my-approvals', label: 'My Approvals', show: () => true },
  { path: '/approval-requests', label: 'Approval Requests', show: (m) => m.roles.approver },
  { path: '/connect', label: 'Connect', show: () => true },
  { path: '/sessions', label: 'Sessions', show: () => true },
  { path: '/audit', label: 'Audit Log', show: admin },
  { path: '/reports', label: 'Reports', show: admin },
  { path: '/tokens', label: 'API Tokens', show: () => true },
];

function useHash(): string {
  const [h, setH] = useState(() => location.hash.slice(1) || '/');
  useEffect(() => {
    const f = () => setH(location.hash.slice(1) || '/');
    addEventListener('hashchange', f);
    return () => removeEventListener('hashchange', f);
  }, []);
  return h;
}

function page(path: string, me: Me): { title: string; node: ReactNode } {
  const dev = /^\/devices\/inventory\/([^/]+)$/.exec(path);
  if (dev) return { title: `Device ${decodeURIComponent(dev[1])}`, node: <DevicePage name={decodeURIComponent(dev[1])} /> };
  switch (path) {
    case '/users':
      return { title: 'Users', node: <UsersPage /> };
    case '/users/groups':
      return { title: 'User Groups', node: <UserGroupsPage /> };
    case '/devices/inventory':
      return { title: 'Inventory', node: <InventoryPage /> };
    case '/workflows':
      return { title: 'Approval Workflows', node: <WorkflowsPage /> };
    case '/params':
      return { title: 'System Parameters', node: <ParamsPage /> };
    case '/my-approvals':
      return { title: 'My Approvals', node: <MyApprovalsPage /> };
    case '/approval-requests':
      return { title: 'Approval Requests', node: <ApprovalRequestsPage /> };
    case '/connect':
      return { title: 'Connect', node: <ConnectPage me={me} /> };
    case '/sessions':
      return { title: 'Sessions', node: <SessionsPage admin={me.roles.admin} /> };
    case '/audit':
      return { title: 'Audit Log', node: <AuditPage /> };
    case '/reports':
      return { title: 'Reports', node: <ReportsPage /> };
    case '/tokens':
      return { title: 'API Tokens', node: <TokensPage /> };
    default:
      return { title: 'Not found', node: <p>No such page. Pick one from the navigation.</p> };
  }
}

type LoginAnswer = Me | { secondFactor: 'required' | 'enrol'; ticket: string };
interface Enrolment {
  secret: string;
  qrDataUrl: string;
}

/** The second login step when a group asks for a second factor: a TOTP code, after enrolment if none yet. */
function SecondFactor({ ticket, enrol, onIn }: { ticket: string; enrol: boolean; onIn: (m: Me) => void }) {
  const f = useForm();
  const [code, setCode] = useState('');
  const [enrolment, setEnrolment] = useState<Enrolment | null>(null);
  const [recovery, setRecovery] = useState<{ me: Me; codes: string[] } | null>(null);
  const run = f.run;
  useEffect(() => {
    if (enrol) void run(async () => setEnrolment(await post<Enrolment>('/session/second-factor/enrol', { ticket })));
  }, [ticket, enrol]); // once per login ticket
  if (recovery)
    return (
      <div>
        <h2>Recovery codes</h2>
        <p>Keep these codes somewhere safe: each one logs you in once if you lose your phone. They are shown only now.</p>
        <ul className="codes">
          {recovery.codes.map((c) => (
            <li key={c}>
              <code>{c}</code>
            </li>
          ))}
        </ul>
        <button type="button" onClick={() => onIn(recovery.me)}>
          Continue
        </button>
      </div>
    );
  return (
    <form
      onSubmit={(e) => {
        e.preventDefault();
        void f.run(async () => {
          const r = await post<Me & { recoveryCodes?: string[] }>('/session/second-factor', { ticket, code: code.replace(/\s+/g, '') });
          if (r.recoveryCodes?.length) setRecovery({ me: r, codes: r.recoveryCodes });
          else onIn(r);
        });
      }}
    >
      <h2>Second factor</h2>
      {enrol && enrolment && (
        <>
          <p>Your group requires a second factor. Scan this code with an authenticator app, or enter the key by hand.</p>
          <img src={enrolment.qrDataUrl} alt="QR code for the authenticator app" width={180} height={180} />
          <p>
            Key: <code className="wrap">{enrolment.secret}</code>
          </p>
        </>
      )}
      <Field label="Code from your authenticator app (or a recovery code)" name="code" errors={f.errors}>
        {(p) => <input {...p} inputMode="numeric" autoComplete="one-time-code" value={code} onChange={(e) => setCode(e.target.value)} required />}
      </Field>
      <FormError errors={f.errors} />
      <button type="submit" disabled={f.busy}>
        Verify
      </button>
    </form>
  );
}

function Login({ onIn }: { onIn: (m: Me) => void }) {
  const f = useForm();
  const [username, setU] = useState('');
  const [password, setP] = useState('');
  const [step, setStep] = useState<{ ticket: string; enrol: boolean } | null>(null);
  return (
    <main className="login" id="main">
      <div className="login-box">
        <h1>Gatehouse</h1>
        {step ? (
          <SecondFactor ticket={step.ticket} enrol={step.enrol} onIn={onIn} />
        ) : (
          <form
            onSubmit={(e) => {
              e.preventDefault();
              void f.run(async () => {
                const r = await post<LoginAnswer>('/session', { username, password });
                if ('ticket' in r) setStep({ ticket: r.ticket, enrol: r.secondFactor === 'enrol' });
                else onIn(r);
              });
            }}
          >
            <Field label="Username" name="username" errors={f.errors}>
              {(p) => <input {...p} autoComplete="username" value={username} onChange={(e) => setU(e.target.value)} required />}
            </Field>
            <Field label="Password" name="password" errors={f.errors}>
              {(p) => <input {...p} type="password" autoComplete="current-password" value={password} onChange={(e) => setP(e.target.value)} required />}
            </Field>
            <FormError errors={f.errors} />
            <button type="submit" disabled={f.busy}>
              Log in
            </button>
          </form>
        )}
      </div>
    </main>
  );
}

function LoadFailed({ why, onRetry }: { why: string; onRetry: () => void }) {
  return (
    <main className="login" id="main">
      <div className="login-box" role="alert">
        <h1>Gatehouse</h1>
        <p className="error">The console could not load: {why}. You are not signed out; try again in a moment.</p>
        <button type="button" onClick={onRetry}>
          Retry
        </button>
      </div>
    </main>
  );
}

function App() {
  const [me, setMe] = useState<Me | null | undefined>(undefined);
  // Only a 401 means "signed out"; any other failure (a 500, the network) is shown with a retry, and
  // the session cookie is kept, so the console comes back as it was once the server answers.
  const [failed, setFailed] = useState<string | null>(null);
  const [menu, setMenu] = useState(false);
  const path = useHash();
  const load = () => {
    setFailed(null);
    get<Me>('/session').then(setMe, (e: unknown) => {
      if (e instanceof ApiError && e.status === 401) setMe(null);
      else setFailed(e instanceof ApiError ? `the server answered ${e.status} (${e.message})` : 'the server cannot be reached');
    });
  };
  useEffect(() => {
    load();
    const out = () => setMe(null);
    addEventListener('gh-logged-out', out);
    return () => removeEventListener('gh-logged-out', out);
  }, []);
  useEffect(() => {
    setCsrf(me?.csrfToken ?? null);
    if (me) return startLive();
  }, [me]);
  useEffect(() => setMenu(false), [path]);
  if (me === undefined && failed) return <LoadFailed why={failed} onRetry={load} />;
  if (me === undefined) return <p className="loading">Loading…</p>;
  if (me === null) return <Login onIn={setMe} />;
  const items = NAV.filter((n) => n.show(me));
  const current = path === '/' ? (me.roles.admin ? '/users' : '/connect') : path;
  const { title, node } = page(current, me);
  document.title = `${title} · Gatehouse`;
  return (
    <div className="app">
      <a className="skip" href="#main" onClick={(e) => (e.preventDefault(), document.getElementById('main')?.focus())}>
        Skip to content
      </a>
      <header className="top">
        <button type="button" className="menu-toggle" aria-expanded={menu} aria-controls="nav" onClick={() => setMenu(!menu)}>
          Menu
        </button>
        <span className="brand">Gatehouse</span>
        <span className="who">
          {me.user.displayName} ({me.user.username})
        </span>
        <button
          type="button"
          className="link"
          onClick={() =>
            void del('/session')
              .catch(() => {})
              .then(() => setMe(null))
          }
        >
          Log out
        </button>
      </header>
      <nav id="nav" className={menu ? 'open' : ''} aria-label="Main">
        <ul>
          {items.map((n) => (
            <li key={n.path} className={n.sub ? 'sub' : ''}>
              <a href={`#${n.path}`} aria-current={current === n.path || (n.path === '/devices/inventory' && current.startsWith(n.path)) ? 'page' : undefined}>
                {n.label}
              </a>
            </li>
          ))}
        </ul>
      </nav>
      <main id="main" tabIndex={-1}>
        <h1>{title}</h1>
        {node}
      </main>
    </div>
  );
}

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
