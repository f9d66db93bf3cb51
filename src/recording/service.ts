// Recordings of SSH sessions: where they go, the session row that points at them, failures (disk full)
// handled per `recording.on.failure`, and retention.
import { readdirSync, rmSync, statSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import type { Services } from '../services.js';
import { AsciicastRecorder } from './asciicast.js';

export interface StartRecording {
  sessionId: number;
  username: string;
  device: string;
  account: string;
  cols: number;
  rows: number;
  term: string;
  /** Ends the session, when `recording.on.failure` says terminate. */
  terminate(reason: string): void;
}

export class Recordings {
  constructor(private readonly s: Services) {}

  /** Starts a recording for a session, or returns null when recording is off. */
  async start(o: StartRecording): Promise<AsciicastRecorder | null> {
    const params = await this.s.params.params();
    if (!params.bool('recording.enabled')) return null;
    const day = new Date(this.s.clock.now()).toISOString().slice(0, 10).replace(/-/g, '/');
    const rel = join(day, `session-${o.sessionId}.cast.gz`);
    const onFailure = params.str('recording.on.failure');
    const failed = (err: Error) => {
      void this.s
        .audit({
          actor: 'system',
          channel: 'system',
          action: 'recording.failed',
          targetType: 'session',
          targetId: o.sessionId,
          details: { error: err.message, action: onFailure },
        })
        .catch((e) => this.s.log.error({ session: o.sessionId, err: String(e) }, 'recording.failed could not be audited'));
      this.s.log.error({ session: o.sessionId, err: err.message, action: onFailure }, 'recording failed');
      if (onFailure === 'terminate') o.terminate('the session recording could not be written, and policy requires one');
    };
    let rec: AsciicastRecorder;
    try {
      rec = new AsciicastRecorder({
        path: join(this.s.config.recordingsDir, rel),
        width: o.cols || 80,
        height: o.rows || 24,
        term: o.term,
        title: `${o.username}@${o.account}@${o.device} (session ${o.sessionId})`,
        recordInput: params.bool('recording.input'),
        onError: failed,
      });
    } catch (err) {
      // The directory could not be made (disk full, no inodes, permissions): the same policy applies.
      failed(err as Error);
      return null;
    }
    await this.s.recordings.attach(o.sessionId, rel);
    return rec;
  }

  /** The absolute path of a session's recording, if it has one (never outside the recordings dir). */
  async pathOf(sessionId: number): Promise<string | null> {
    const row = await this.s.recordings.find(sessionId);
    if (!row?.path || row.deletedAt) return null;
    const root = resolve(this.s.config.recordingsDir);
    const p = resolve(root, row.path);
    return p.startsWith(root + sep) ? p : null;
  }

  /** Deletes recordings older than `recording.retention.days`; returns how many. */
  async applyRetention(): Promise<number> {
    const days = (await this.s.params.params()).int('recording.retention.days');
    if (days <= 0) return 0;
    const cutoff = this.s.clock.now() - days * 86_400_000;
    const root = this.s.config.recordingsDir;
    let n = 0;
    const walk = (dir: string) => {
      let names: string[];
      try {
        names = readdirSync(dir);
      } catch {
        return;
      }
      for (const name of names) {
        const p = join(dir, name);
        const st = statSync(p, { throwIfNoEntry: false });
        if (!st) continue;
        if (st.isDirectory()) walk(p);
        else if (name.endsWith('.cast.gz') && st.mtimeMs < cutoff) {
          rmSync(p, { force: true });
          n++;
          const id = Number(/session-(\d+)\.cast\.gz$/.exec(name)?.[1]);
          if (id) void this.s.recordings.markDeleted(id, relative(root, p), this.s.clock.now()).catch(() => {});
        }
      }
    };
    walk(root);
    if (n)
      await this.s.audit({
        actor: 'system',
        channel: 'system',
        action: 'recording.retention',
        details: { deleted: n, olderThanDays: days },
      });
    return n;
  }
}
