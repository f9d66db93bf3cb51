// login.password.enabled = false turns console password login off for everyone but the one break-glass
// account named by login.password.break.glass.user (default: admin).
import type { Services } from '../../../services.js';

export async function passwordLoginAllowed(s: Services, username: string): Promise<boolean> {
  const p = await s.params.params();
  if (p.bool('login.password.enabled')) return true;
  const breakGlass = p.str('login.password.break.glass.user').trim().toLowerCase();
  return breakGlass !== '' && username.trim().toLowerCase() === breakGlass;
}
