// The console: a single-page app on react-router with a real path for every page (routes.tsx).
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { createBrowserRouter } from 'react-router';
import { RouterProvider } from 'react-router/dom';
import { routes } from './routes';
import './styles.css';

// Links from before the console had paths ('/#/approval-requests') land on the path they meant.
const fromHash = (hash: string) => (hash.startsWith('#/') ? hash.slice(1) : null);
const first = fromHash(location.hash);
if (first) history.replaceState(null, '', first);

const router = createBrowserRouter(routes);
addEventListener('hashchange', () => {
  const to = fromHash(location.hash);
  if (to) void router.navigate(to, { replace: true });
});

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <RouterProvider router={router} />
  </StrictMode>,
);
