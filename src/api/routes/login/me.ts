// The "who am I" answer, shared by the password login, the second-factor step and GET /session.
import type { User } from '../../../core/types.js';
import { presentMe } from '../../../presenters/users.js';
import type { Services } from '../../../services.js';
import { mayApprove } from '../../policy.js';
import { publicHost } from '../context.js';

export async function meView(s: Services, u: User, channel: string, csrf: string | null) {
  const ssh = { port: s.config.sshPort, host: publicHost(s) };
  const instance = (await s.params.params()).str('instance.name');
  return presentMe(await s.policy.current(), u, channel, csrf, await mayApprove(s, u), ssh, instance);
}
