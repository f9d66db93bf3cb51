// Peers: a suite whose peer is missing skips with a one-line reason, unless GATEHOUSE_TEST_REQUIRE_PEERS=1
// (CI), where a missing peer fails the run.
import { execFileSync } from 'node:child_process';

export const REQUIRE_PEERS = process.env.GATEHOUSE_TEST_REQUIRE_PEERS === '1';

/** Returns false (skip) or true; throws when peers are required. Use: `{ skip: peerMissing(...) }`. */
export function missing(peer: string, available: boolean, hint = ''): string | false {
  if (available) return false;
  const reason = `${peer} not available${hint ? ` (${hint})` : ''}`;
  if (REQUIRE_PEERS) throw new Error(`GATEHOUSE_TEST_REQUIRE_PEERS=1 but ${reason}`);
  return reason;
}

export function hasBinary(name: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
