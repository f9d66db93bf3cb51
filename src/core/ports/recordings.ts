// Where a session's recording is, as stored on the session (a path relative to the recordings directory).

export interface RecordingRepository {
  attach(sessionId: number, path: string): Promise<void>;
  /** The session's recording path and when retention deleted it; undefined for an unknown session. */
  find(sessionId: number): Promise<{ path: string | null; deletedAt: number | null } | undefined>;
  /** Notes that retention deleted the file, when the session still points at `path`. */
  markDeleted(sessionId: number, path: string, at: number): Promise<void>;
}
