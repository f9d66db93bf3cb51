// Small terminal helpers for a client's PTY: messages, and reading one line with echo (menu choice,
// reason). The client's terminal is in raw mode, so lines end with CR LF and we echo ourselves.
import type { ServerChannel } from 'ssh2';

export const capitalise = (t: string) => t.charAt(0).toUpperCase() + t.slice(1);

/** Tells the user something: on the terminal with a PTY, on stderr without one (OpenSSH shows both). */
export function say(ch: ServerChannel, pty: boolean, text: string): void {
  if (!ch.writable) return;
  if (pty) ch.write(`\r\x1b[2K${text.replace(/\r?\n/g, '\r\n')}\r\n`);
  else ch.stderr.write(`gatehouse: ${text.replace(/\n/g, '\ngatehouse: ')}\n`);
}

/** Ends a session channel with an exit status (sent before the end, or it is lost). */
export function finish(ch: ServerChannel, code: number): void {
  if (!ch.writable) return;
  try {
    ch.exit(code);
  } catch {
    // channel already closing
  }
  ch.end();
}

/** Bytes one prompt reads before it gives up: typing and pasting stay far below; a flood ends the channel. */
export const LINE_INPUT_BYTES = 16 * 1024;

/**
 * Reads one line from a PTY channel with echo and basic editing (backspace, Ctrl-U). Resolves null on
 * Ctrl-C, Ctrl-D on an empty line, or when the channel closes. Characters past `max` are not kept; past
 * LINE_INPUT_BYTES received (escape sequences included) the channel is ended and null returned.
 */
export function readLine(ch: ServerChannel, prompt: string, max = 500): Promise<string | null> {
  return new Promise((resolve) => {
    let line = '';
    let received = 0;
    // Inside an escape sequence (arrow keys and the like): skipped up to its final byte.
    let esc: 'no' | 'start' | 'csi' = 'no';
    const done = (v: string | null) => {
      ch.removeListener('data', onData);
      ch.removeListener('close', onClose);
      ch.pause();
      ch.write('\r\n');
      resolve(v);
    };
    const onClose = () => done(null);
    const onData = (d: Buffer) => {
      received += d.length;
      if (received > LINE_INPUT_BYTES) {
        done(null);
        say(ch, true, 'Input too long: this line is closed.');
        return finish(ch, 1);
      }
      for (const c of d.toString('utf8')) {
        const code = c.codePointAt(0)!;
        if (esc === 'start') {
          esc = c === '[' || c === 'O' ? 'csi' : 'no';
          continue;
        }
        if (esc === 'csi') {
          if (code >= 0x40 && code <= 0x7e) esc = 'no';
          continue;
        }
        if (code === 0x1b) {
          esc = 'start';
          continue;
        }
        if (c === '\r' || c === '\n') return done(line);
        if (code === 3 || (code === 4 && line === '')) return done(null);
        if (code === 0x7f || code === 8) {
          if (line.length) {
            line = [...line].slice(0, -1).join('');
            ch.write('\b \b');
          }
        } else if (code === 0x15) {
          ch.write('\b \b'.repeat([...line].length));
          line = '';
        } else if (code >= 0x20 && code !== 0x7f && !(code >= 0x80 && code < 0xa0) && [...line].length < max) {
          line += c;
          ch.write(c);
        }
      }
    };
    ch.write(prompt);
    ch.on('data', onData);
    ch.once('close', onClose);
    ch.resume();
  });
}
