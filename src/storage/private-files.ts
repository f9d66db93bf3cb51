// The data dir holds the database, its WAL, the vault key, SSH host keys and recordings: only the
// gateway's own user may read it. Directories are 0700 and files 0600, at creation and at every start
// (an existing dir with looser modes is tightened; one we cannot change is reported).
import { chmodSync, closeSync, existsSync, lstatSync, mkdirSync, openSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

export const DIR_MODE = 0o700;
export const FILE_MODE = 0o600;

/** Paths whose mode could not be tightened (not ours, read-only file system), for a warning. */
export type Loose = string[];

function tighten(path: string, mode: number, loose: Loose): void {
  try {
    const st = lstatSync(path);
    if (st.isSymbolicLink()) return;
    if ((st.mode & 0o777) !== mode) chmodSync(path, mode);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') loose.push(path);
  }
}

/** Creates `dir` (and parents) if missing; the dir itself ends up 0700. */
export function ensurePrivateDir(dir: string, loose: Loose = []): Loose {
  mkdirSync(dir, { recursive: true, mode: DIR_MODE });
  tighten(dir, DIR_MODE, loose);
  return loose;
}

/** Creates `file` empty with 0600 if missing (so no other process sees it looser), else tightens it. */
export function ensurePrivateFile(file: string, loose: Loose = []): Loose {
  if (!existsSync(file)) closeSync(openSync(file, 'a', FILE_MODE));
  tighten(file, FILE_MODE, loose);
  return loose;
}

/** Tightens `dir` and everything under it: directories 0700, files 0600. Symbolic links are left alone. */
export function tightenTree(dir: string, loose: Loose = []): Loose {
  if (!existsSync(dir)) return loose;
  tighten(dir, DIR_MODE, loose);
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    loose.push(dir);
    return loose;
  }
  for (const e of entries) {
    const p = join(dir, e.name);
    if (e.isDirectory()) tightenTree(p, loose);
    else if (e.isFile()) tighten(p, FILE_MODE, loose);
  }
  return loose;
}
