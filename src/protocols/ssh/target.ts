// The SSH username carries the target (DESIGN.md): `alice@web01`, `alice@root@web01`, or plain `alice`
// for the menu. The parsing is core's, shared with the database listeners.
import { parseTarget as parse, type Target } from '../../core/target.js';

export { MAX_TARGET, printable, type Target } from '../../core/target.js';

export const TARGET_SYNTAX = 'use user@device or user@account@device, e.g. ssh -p 2222 alice@web01@gateway';

export function parseTarget(raw: string): Target {
  return parse(raw, TARGET_SYNTAX);
}
