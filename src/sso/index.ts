// OpenID Connect login, built once per running Services (API, CLI).
import type { Services } from '../services-core.js';
import { SsoService } from './service.js';

export { SsoService } from './service.js';

const cache = new WeakMap<Services, SsoService>();

export function ssoOf(s: Services): SsoService {
  let sso = cache.get(s);
  if (!sso) {
    sso = new SsoService({
      store: s.ssoStore,
      vault: s.vault,
      admin: s.adminStore,
      policy: s.policy,
      clock: s.clock,
      audit: (e) => s.audit(e),
      publicUrl: () => s.config.publicUrl,
      breakGlassUser: async () => (await s.params.params()).str('login.password.break.glass.user'),
      endSessions: (userId, reason) => s.sessions.requestEndForUser(userId, reason),
    });
    cache.set(s, sso);
  }
  return sso;
}
