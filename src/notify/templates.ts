// Mail templates: editable files ({{name}} placeholders) looked up in the operator's directory first,
// then the repo's defaults in templates/mail. Every value is escaped for where it lands: HTML-escaped in
// .html parts; in text parts, control characters (CR, LF, tabs…) are shown as visible escapes, so a
// reason like "x\r\nBcc: y" stays one line of body text. Header values never come from templates.
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

export type TemplateName = 'approver' | 'approver-factor' | 'requester' | 'refused';
export type Vars = Record<string, string | number | null | undefined>;

const cache = new Map<string, { mtimeMs: number; text: string }>();

function load(dirs: string[], file: string): string | null {
  for (const d of dirs) {
    const p = join(d, file);
    try {
      const st = statSync(p);
      const hit = cache.get(p);
      if (hit && hit.mtimeMs === st.mtimeMs) return hit.text;
      const text = readFileSync(p, 'utf8');
      cache.set(p, { mtimeMs: st.mtimeMs, text });
      return text;
    } catch {
      // not in this directory
    }
  }
  return null;
}

export function escapeHtml(v: string): string {
  return v.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** One line of plain text: control characters become visible escapes (\r, \n, \t, \u001b…). */
export function escapeText(v: string): string {
  return v.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g, (c) => {
    if (c === '\r') return '\\r';
    if (c === '\n') return '\\n';
    if (c === '\t') return '\\t';
    return `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;
  });
}

function fill(tpl: string, vars: Vars, esc: (v: string) => string): string {
  return tpl.replace(/\{\{\s*([A-Za-z0-9_]+)\s*\}\}/g, (_m, k: string) => {
    const v = vars[k];
    return esc(v === null || v === undefined || v === '' ? '-' : String(v));
  });
}

/** Renders the text part and (when a template exists) the HTML part. */
export function render(dirs: string[], name: TemplateName, vars: Vars): { text: string; html: string | null } {
  const t = load(dirs, `${name}.txt`);
  if (t === null) throw new Error(`mail template ${name}.txt not found in ${dirs.join(', ')}`);
  const h = load(dirs, `${name}.html`);
  return { text: fill(t, vars, escapeText), html: h === null ? null : fill(h, vars, (v) => escapeHtml(escapeText(v))) };
}
