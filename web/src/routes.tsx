// Every console page has a path (tabs and filters live in its query string, see url.ts). The server
// answers index.html for these paths (src/api/console-fallback.ts), so a link or a reload lands here.
import { useEffect, useState, type ReactElement } from 'react';
import { Navigate, useParams, type RouteObject } from 'react-router';
import { App, useMe } from './shell';
import type { RouteHandle } from './nav';
import { UsersPage } from './pages/Users';
import { UserGroupsPage } from './pages/UserGroups';
import { InventoryPage } from './pages/Inventory';
import { DevicePage } from './pages/Device';
import { WorkflowsPage } from './pages/Workflows';
import { ParamsPage } from './pages/Params';
import { MyApprovalsPage } from './pages/MyApprovals';
import { ApprovalRequestsPage } from './pages/ApprovalRequests';
import { ApprovalRequestPage } from './pages/ApprovalRequest';
import { waitingCount } from './pages/ApprovalBadge';
import { ConnectPage } from './pages/Connect';
import { SessionsPage } from './pages/Sessions';
import { AuditPage } from './pages/Audit';
import { ReportsPage } from './pages/Reports';
import { TokensPage } from './pages/Tokens';
import { PasskeysPage } from './pages/Passkeys';
import { SshSignInPage } from './pages/SshSignIn';
import { WebhooksPage } from './pages/Webhooks';
import { ChatPage } from './pages/Chat';

// Approvers with something waiting land on it; everyone else on their usual first page.
function Home() {
  const me = useMe();
  const [waiting, setWaiting] = useState<number | null>(me.roles.approver ? null : 0);
  useEffect(() => {
    if (me.roles.approver) waitingCount().then(setWaiting, () => setWaiting(0));
  }, [me.user.id]);
  if (waiting === null) return <p className="loading">Loading…</p>;
  // A link followed while the count loaded (an old '/#/…' link, or a click) wins over the landing.
  if (location.pathname !== '/' || location.hash.startsWith('#/')) return null;
  return <Navigate to={waiting > 0 ? '/approval-requests' : me.roles.admin ? '/users' : '/connect'} replace />;
}
function Device() {
  return <DevicePage name={useParams().name ?? ''} />;
}
function Connect() {
  return <ConnectPage me={useMe()} />;
}
function Inbox() {
  return <ApprovalRequestsPage me={useMe()} />;
}
function Request() {
  return <ApprovalRequestPage id={Number(useParams().id)} me={useMe()} />;
}
function Passkeys() {
  return <PasskeysPage admin={useMe().roles.admin} />;
}
function SshSignIn() {
  return <SshSignInPage code={useParams().code ?? ''} />;
}
function Sessions() {
  return <SessionsPage admin={useMe().roles.admin} />;
}

const page = (path: string, title: RouteHandle['title'], element: ReactElement): RouteObject => ({
  path,
  element,
  handle: { title } satisfies RouteHandle,
});

export const routes: RouteObject[] = [
  {
    path: '/',
    element: <App />,
    children: [
      { index: true, element: <Home /> },
      page('users', 'Users', <UsersPage />),
      page('users/groups', 'User Groups', <UserGroupsPage />),
      page('devices/inventory', 'Inventory', <InventoryPage />),
      page('devices/inventory/:name', (p) => `Device ${p.name}`, <Device />),
      page('workflows', 'Approval Workflows', <WorkflowsPage />),
      page('params', 'System Parameters', <ParamsPage />),
      page('my-approvals', 'My Approvals', <MyApprovalsPage />),
      page('approval-requests', 'Approval Requests', <Inbox />),
      page('approvals/:id', (p) => `Approval request #${p.id}`, <Request />),
      page('connect', 'Connect', <Connect />),
      page('sessions', 'Sessions', <Sessions />),
      page('audit', 'Audit Log', <AuditPage />),
      page('reports', 'Reports', <ReportsPage />),
      page('tokens', 'API Tokens', <TokensPage />),
      page('passkeys', 'Passkeys', <Passkeys />),
      page('sso/ssh/:code', 'Sign in to SSH', <SshSignIn />),
      page('webhooks', 'Webhooks', <WebhooksPage />),
      page('chat', 'Chat Approvals', <ChatPage />),
      page('*', 'Not found', <p>No such page. Pick one from the navigation.</p>),
    ],
  },
];
