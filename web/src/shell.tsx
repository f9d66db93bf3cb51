// The console's frame: it checks the session (the login form when signed out, a retry when the server
// fails), then shows the header, the navigation and the page the URL names.
import { useEffect, useState } from 'react';
import { NavLink, Outlet, useLocation, useMatches, useOutletContext } from 'react-router';
import { ApiError, del, get, setCsrf } from './api';
import { LoadFailed, Login } from './login';
import { NAV, type RouteHandle } from './nav';
import type { Me } from './types';
import { startLive } from './ui';
import { useWaitingCount } from './pages/ApprovalBadge';

/** The signed-in user, for the pages under the frame. */
export const useMe = () => useOutletContext<Me>();

function useSession() {
  const [me, setMe] = useState<Me | null | undefined>(undefined);
  // Only a 401 means "signed out"; any other failure (a 500, the network) is shown with a retry, and
  // the session cookie is kept, so the console comes back as it was once the server answers.
  const [failed, setFailed] = useState<string | null>(null);
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
  return { me, setMe, failed, load };
}

export function App() {
  const { me, setMe, failed, load } = useSession();
  if (me === undefined && failed) return <LoadFailed why={failed} onRetry={load} />;
  if (me === undefined) return <p className="loading">Loading…</p>;
  if (me === null) return <Login onIn={setMe} />;
  return <Frame me={me} onOut={() => setMe(null)} />;
}

function useTitle(): string {
  const last = useMatches().findLast((m) => (m.handle as RouteHandle | undefined)?.title);
  const t = (last?.handle as RouteHandle | undefined)?.title;
  return typeof t === 'function' ? t(last!.params) : (t ?? 'Gatehouse');
}

function Frame({ me, onOut }: { me: Me; onOut: () => void }) {
  const [menu, setMenu] = useState(false);
  const { pathname } = useLocation();
  const title = useTitle();
  const waiting = useWaitingCount(me);
  useEffect(() => setMenu(false), [pathname]);
  useEffect(() => {
    document.title = `${waiting ? `(${waiting}) ` : ''}${title} · ${me.instance}`;
  }, [title, waiting, me.instance]);
  return (
    <div className="app">
      <a className="skip" href="#main" onClick={(e) => (e.preventDefault(), document.getElementById('main')?.focus())}>
        Skip to content
      </a>
      <header className="top">
        <button type="button" className="menu-toggle" aria-expanded={menu} aria-controls="nav" onClick={() => setMenu(!menu)}>
          Menu
          {waiting > 0 && (
            <span className="badge">
              {waiting}
              <span className="visually-hidden"> waiting for you</span>
            </span>
          )}
        </button>
        <span className="brand">{me.instance}</span>
        <span className="who">
          {me.user.displayName} ({me.user.username})
        </span>
        <button
          type="button"
          className="link"
          onClick={() =>
            void del('/session')
              .catch(() => {})
              .then(onOut)
          }
        >
          Log out
        </button>
      </header>
      <nav id="nav" className={menu ? 'open' : ''} aria-label="Main">
        <ul>
          {NAV.filter((n) => n.show(me)).map((n) => (
            <li key={n.path} className={n.sub ? 'sub' : ''}>
              <NavLink to={n.path} end={!n.prefix} aria-describedby={n.badge && waiting ? 'waiting-badge' : undefined}>
                {n.label}
              </NavLink>
              {n.badge && waiting > 0 && (
                <span id="waiting-badge" className="badge">
                  {waiting}
                  <span className="visually-hidden"> waiting for you</span>
                </span>
              )}
            </li>
          ))}
        </ul>
      </nav>
      <main id="main" tabIndex={-1}>
        <h1>{title}</h1>
        <Outlet context={me} />
      </main>
    </div>
  );
}
