// Builds the core services on a database: the `services` object every protocol front-end receives.
// No listeners here; main.ts owns those. The server gets the real hasher, key tools and directory.
import type { Config } from './config/env.js';
import type { Logger } from './log.js';
import { argon2Hasher } from './crypto/argon2.js';
import { cachingHasher } from './crypto/verified-cache.js';
import { sshKeyTools } from './crypto/sshkeys.js';
import { directoryParts } from './directory/index.js';
import { buildServices, type OpenOptions, type Services } from './services-core.js';

export { ensureAdmin, nodeId, SYSTEM_ACTOR, vaultKey, type Services } from './services-core.js';

export async function openServices(config: Config, log: Logger, opts: OpenOptions = {}): Promise<Services> {
  return buildServices(config, log, { hasher: cachingHasher(argon2Hasher), keys: sshKeyTools, directory: directoryParts }, opts);
}
