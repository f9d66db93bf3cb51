// The services for the CLI's data commands: the same builder as the server's, with the password hasher
// and the directory (LDAP, TOTP) loaded only when a command calls them. No listener, proxy or mail code.
import type { Config } from '../config/env.js';
import type { User } from '../core/types.js';
import type { DirectoryParts } from '../directory/index.js';
import { sshKeyTools } from '../crypto/sshkeys.js';
import type { Logger } from '../log.js';
import { buildServices, type DirectoryHooks, type ServiceParts, type Services } from '../services-core.js';

const hasher: ServiceParts['hasher'] = {
  hash: async (password) => (await import('../crypto/argon2.js')).argon2Hasher.hash(password),
  verify: async (hash, password) => (await import('../crypto/argon2.js')).argon2Hasher.verify(hash, password),
};

/** Builds the real directory parts on the first call that needs them. */
function lazyDirectory(deps: Parameters<ServiceParts['directory']>[0]): DirectoryHooks {
  let parts: Promise<DirectoryParts> | null = null;
  const load = () => (parts ??= import('../directory/index.js').then((m) => m.directoryParts(deps)));
  return {
    directory: {
      isSyncedGroup: async (name: string) => (await load()).directory.isSyncedGroup(name),
      bind: async (username: string, password: string) => (await load()).directory.bind(username, password),
    },
    totp: {
      required: async (user: User) => (await load()).totp.required(user),
      verify: async (user: User, code: string) => (await load()).totp.verify(user, code),
      requiredToDecide: async (user: User) => (await load()).totp.requiredToDecide(user),
    },
  };
}

export function openDataServices(config: Config, log: Logger): Promise<Services> {
  return buildServices(config, log, { hasher, keys: sshKeyTools, directory: lazyDirectory });
}
