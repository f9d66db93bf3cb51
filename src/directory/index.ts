// The directory's pieces, built once per Services: the sync/login service and the TOTP second factor.
import type { ParamSource } from '../core/approvals/service.js';
import type { Store } from '../core/ports/store.js';
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
  const totp = new TotpService(
    directory.store,
    d.vault,
    d.policy,
    d.clock,
    async () => (await d.params.params()).str('instance.name'),
    d.delegationsTo,
  );
  return { directory, totp };
}

/** What directoryOf reads from a running Services (declared here so this module does not import services.ts). */
export interface DirectoryHost extends Omit<DirectoryDeps, 'store' | 'admin' | 'audit'> {
  store: Pick<Store, 'delegationsTo'>;
  directoryStore: DirectoryDeps['store'];
  adminStore: DirectoryDeps['admin'];
  params: ParamSource;
  audit: DirectoryDeps['audit'];
}

const cache = new WeakMap<DirectoryHost, DirectoryParts>();

/** The directory parts for a running Services (CLI, API, background). */
export function directoryOf(s: DirectoryHost): DirectoryParts {
  let parts = cache.get(s);
  if (!parts) {
    parts = directoryParts({
      store: s.directoryStore,
      vault: s.vault,
      admin: s.adminStore,
      policy: s.policy,
      clock: s.clock,
      nodeId: s.nodeId,
      params: s.params,
      audit: (e) => s.audit(e),
      log: s.log,
      delegationsTo: (u, at) => s.store.delegationsTo(u, at),
    });
    cache.set(s, parts);
  }
  return parts;
}
