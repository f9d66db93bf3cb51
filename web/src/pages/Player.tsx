// Plays a session recording with asciinema-player. For a live session it follows the recording as it
// grows (read-only): every 2 s it fetches what was recorded so far and jumps to the end.
import { useEffect, useRef, useState } from 'react';
import * as AsciinemaPlayer from 'asciinema-player';
import 'asciinema-player/dist/bundle/asciinema-player.css';

export function RecordingPlayer({ sessionId, live }: { sessionId: number; live: boolean }) {
  const box = useRef<HTMLDivElement>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    let player: { dispose(): void } | null = null;
    let stopped = false;
    let lastLength = -1;
    const load = async () => {
      const res = await fetch(`/api/v1/sessions/${sessionId}/recording`, { credentials: 'same-origin' });
      if (!res.ok) {
        setError(res.status === 404 ? 'No recording for this session.' : `Could not load the recording (${res.status}).`);
        return;
      }
      const cast = await res.text();
      if (stopped || cast.length === lastLength || !box.current) return;
      lastLength = cast.length;
      const lines = cast.trim().split('\n');
      const duration = lines.length > 1 ? (JSON.parse(lines[lines.length - 1]) as [number])[0] : 0;
      player?.dispose();
      box.current.replaceChildren();
      player = AsciinemaPlayer.create({ data: cast }, box.current, {
        fit: 'width',
        preload: true,
        poster: `npt:${posterAt(duration)}`,
        ...(live ? { startAt: duration } : {}),
      });
    };
    void load().catch((e: Error) => setError(e.message));
    const timer = live ? setInterval(() => void load().catch(() => {}), 2000) : null;
    return () => {
      stopped = true;
      if (timer) clearInterval(timer);
      player?.dispose();
    };
  }, [sessionId, live]);
  return (
    <section aria-label={`Recording of session ${sessionId}`} className="player">
      {live && <p className="hint">Live, read-only: the view follows the session as it is recorded.</p>}
      {error ? (
        <p className="error" role="alert">
          {error}
        </p>
      ) : (
        <div ref={box} data-testid="player" />
      )}
    </section>
  );
}

/**
 * The poster shows the screen as of this time: a little past the last event, so the last output is on
 * it (at exactly the last event's time, output that arrived within the same millisecond was missing).
 */
function posterAt(duration: number): string {
  return (Math.floor(duration) + 1).toString();
}
