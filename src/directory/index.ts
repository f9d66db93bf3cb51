// The directory's pieces, built once per Services: the sync/login service and the TOTP second factor.
import type { ParamSource } from '../core/approvals/service.js';
import type { Services } from '../services.js';
import { DirectoryService, type DirectoryDeps } from './service.js';
import { TotpService, type DelegationsTo } from './totp.js';

export { DirectoryService } from './service.js';
export { TotpService } from './totp.js';

export interface DirectoryParts {
  directory: DirectoryService;
  totp: TotpService;
}

export function directoryParts(d: DirectoryDeps & { params: ParamSource; delegationsTo: DelegationsTo }): DirectoryParts {
  const directory = new DirectoryService(d);
  const totp = new TotpService(directory.store, d.vault, d.policy, d.clock, async () => (await d.params.params()).str('instance.name'), d.delegationsTo);
  return { directory, totp };
}

const cache = new WeakMap<Services, DirectoryParts>();

/** The directory parts for a running Services (CLI, API, background). */
export function directoryOf(s: Services): DirectoryParts {
  let parts = cache.get(s);
  if (!parts) {
    parts = directoryParts({ db: s.store.db, vault: s.vault, admin: s.adminStore, policy: s.policy, clock: s.clock, nodeId: s.nodeId, params: s.params, audit: (e) => s.audit(e), log: s.log, delegationsTo: (u, at) => s.store.delegationsTo(u, at) });
    cache.set(s, parts);
  }
  return parts;
}
