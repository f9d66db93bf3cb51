// The console's navigation, in the guide's order, and what each route tells the frame.
import type { Me } from './types';

export interface NavItem {
  path: string;
  label: string;
  show: (m: Me) => boolean;
  sub?: boolean;
  /** Also current on the paths below it (a device's page under Inventory). */
  prefix?: boolean;
  /** Shows the number of requests waiting for the user next to the link. */
  badge?: boolean;
}
const admin = (m: Me) => m.roles.admin;
export const NAV: NavItem[] = [
  { path: '/users', label: 'Users', show: admin },
  { path: '/users/groups', label: 'User Groups', show: admin, sub: true },
  { path: '/devices/inventory', label: 'Devices › Inventory', show: admin, prefix: true },
  { path: '/workflows', label: 'Approval Workflows', show: admin },
  { path: '/params', label: 'System Parameters', show: admin },
  { path: '/my-approvals', label: 'My Approvals', show: () => true },
  { path: '/approval-requests', label: 'Approval Requests', show: (m) => m.roles.approver, badge: true },
  { path: '/connect', label: 'Connect', show: () => true },
  { path: '/sessions', label: 'Sessions', show: () => true },
  { path: '/audit', label: 'Audit Log', show: admin },
  { path: '/reports', label: 'Reports', show: admin },
  { path: '/webhooks', label: 'Webhooks', show: admin },
  { path: '/chat', label: 'Chat Approvals', show: admin },
  { path: '/tokens', label: 'API Tokens', show: () => true },
  { path: '/passkeys', label: 'Passkeys', show: () => true },
];

/** What the frame shows as the page's heading and the document's title. */
export interface RouteHandle {
  title: string | ((params: Record<string, string | undefined>) => string);
}
