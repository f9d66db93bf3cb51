// Every repository on one open database, typed by the core ports they implement. Only the composition
// root (services-core.ts) calls this; everything else sees the ports.
import type { AdminStore } from '../core/ports/admin-store.js';
import type { ApiStore } from '../core/ports/api-store.js';
import type { DirectoryStore } from '../core/ports/directory-store.js';
import type { LoginAttemptStore } from '../core/ports/login-attempts.js';
import type { LoginTicketStore } from '../core/ports/login-tickets.js';
import type { MailStore } from '../core/ports/mail.js';
import type { NodeStorePort } from '../core/nodes.js';
import type { PasskeyStore } from '../core/passkeys.js';
import type { SessionStorePort } from '../core/sessions.js';
import type { AuditEntry } from '../core/types.js';
import type { WebhookStore } from '../core/ports/webhooks.js';
import type { ChatStore } from '../core/ports/chat.js';
import { KyselyChatStore } from './chat-store.js';
import { KyselyAdminStore } from './admin-store.js';
import { KyselyApiStore } from './api-store.js';
import { KyselyDirectoryStore } from './directory-store.js';
import { KyselyLoginAttemptStore } from './login-attempts.js';
import { KyselyLoginTicketStore } from './login-tickets.js';
import { KyselyMailStore } from './mail-store.js';
import { KyselyNodeStore } from './nodes-store.js';
import { KyselyPasskeyStore } from './passkey-store.js';
import { KyselySessionStore, type KyselyStore } from './store.js';
import { KyselySsoStore } from './sso-store.js';
import type { SsoStore } from '../sso/store.js';
import type { SshSsoStore } from '../core/ports/ssh-sso.js';
import { KyselySshSsoStore } from './ssh-sso-store.js';
import { KyselyWebhookStore } from './webhook-store.js';

export interface Repositories {
  adminStore: AdminStore;
  apiStore: ApiStore;
  directoryStore: DirectoryStore;
  loginAttempts: LoginAttemptStore;
  loginTickets: LoginTicketStore;
  mail: MailStore;
  nodeStore: NodeStorePort;
  passkeyStore: PasskeyStore;
  sessionStore: SessionStorePort & { appendAudit(e: AuditEntry, at: number): Promise<void> };
  ssoStore: SsoStore;
  sshSsoStore: SshSsoStore;
  webhooks: WebhookStore;
  chat: ChatStore;
}

export function repositories(store: KyselyStore, now: () => number): Repositories {
  return {
    adminStore: new KyselyAdminStore(store, now),
    apiStore: new KyselyApiStore(store.db, store.dialect),
    directoryStore: new KyselyDirectoryStore(store.db),
    loginAttempts: new KyselyLoginAttemptStore(store.db),
    loginTickets: new KyselyLoginTicketStore(store.db),
    mail: new KyselyMailStore(store.db),
    nodeStore: new KyselyNodeStore(store.db),
    passkeyStore: new KyselyPasskeyStore(store.db),
    sessionStore: new KyselySessionStore(store),
    ssoStore: new KyselySsoStore(store.db),
    sshSsoStore: new KyselySshSsoStore(store.db),
    webhooks: new KyselyWebhookStore(store.db),
    chat: new KyselyChatStore(store.db),
  };
}
