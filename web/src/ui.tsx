// Small building blocks every page uses: loading data, live updates, forms whose server errors land
// next to their field, tables that scroll on a phone, and times in the viewer's zone (UTC on hover).
import { useCallback, useEffect, useId, useRef, useState, type KeyboardEvent, type ReactNode } from 'react';
import { unplaced } from './errors';
// The Action menu's look lives with the picker's (both float over a table or a form).
import './picker.css';
import { statusLabel } from './labels';

export function useLoad<T>(load: () => Promise<T>, deps: unknown[] = []): { data: T | null; error: string | null; reload: () => void } {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [n, setN] = useState(0);
  useEffect(() => {
    let live = true;
    load().then(
      (d) => live && (setData(d), setError(null)),
      (e: Error) => live && setError(e.message),
    );
    return () => {
      live = false;
    };
  }, [...deps, n]);
  return { data, error, reload: useCallback(() => setN((x) => x + 1), []) };
}

type Listener = (event: string, data: { type: string; request?: unknown }) => void;
const listeners = new Set<Listener>();
let source: EventSource | null = null;

/** One EventSource for the whole console; pages subscribe to what they show. */
export function startLive(): () => void {
  source?.close();
  source = new EventSource('/api/v1/events');
  // 'open' on every (re)connection: a change made before the stream was up is not lost, pages reload.
  source.addEventListener('open', () => {
    for (const l of listeners) l('open', { type: 'open' });
  });
  for (const ev of ['approval', 'policy', 'session'])
    source.addEventListener(ev, (m) => {
      const data = JSON.parse((m as MessageEvent).data);
      for (const l of listeners) l(ev, data);
    });
  return () => {
    source?.close();
    source = null;
  };
}

export function useLive(fn: Listener): void {
  const ref = useRef(fn);
  ref.current = fn;
  useEffect(() => {
    const l: Listener = (e, d) => ref.current(e, d);
    listeners.add(l);
    return () => {
      listeners.delete(l);
    };
  }, []);
}

export function Time({ at }: { at: string | null | undefined }) {
  if (!at) return <span className="muted">—</span>;
  const d = new Date(at);
  return (
    <time dateTime={at} title={`${d.toISOString().replace('T', ' ').slice(0, 19)} UTC`}>
      {d.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' })}
    </time>
  );
}

export function Status({ value }: { value: string }) {
  return <span className={`status status-${value}`}>{statusLabel(value)}</span>;
}

export function Table({
  label,
  head,
  rows,
  ids,
  empty = 'Nothing here yet.',
}: {
  label: string;
  head: ReactNode[];
  rows: ReactNode[][];
  ids?: (string | number)[];
  empty?: string;
}) {
  return (
    <div className="table-wrap" role="region" aria-label={label} tabIndex={0}>
      {/* Explicit roles keep the table's semantics when a phone's stylesheet stacks the rows as cards. */}
      <table role="table">
        <thead role="rowgroup">
          <tr role="row">
            {head.map((h, i) => (
              <th key={i} scope="col" role="columnheader">
                {h}
              </th>
            ))}
          </tr>
        </thead>
        <tbody role="rowgroup">
          {rows.length ? (
            rows.map((r, i) => (
              <tr key={ids?.[i] ?? i} data-id={ids?.[i]} role="row">
                {r.map((c, j) => (
                  <td key={j} role="cell" data-label={typeof head[j] === 'string' ? head[j] : undefined}>
                    {c}
                  </td>
                ))}
              </tr>
            ))
          ) : (
            <tr role="row">
              <td colSpan={head.length} className="muted" role="cell">
                {empty}
              </td>
            </tr>
          )}
        </tbody>
      </table>
    </div>
  );
}

export { useForm } from './errors';

export function Field(props: {
  label: string;
  name: string;
  errors: Record<string, string>;
  hint?: string;
  children: (p: { id: string; 'aria-invalid': boolean; 'aria-describedby'?: string; name: string }) => ReactNode;
}) {
  const id = useId();
  const err = props.errors[props.name];
  const described = [props.hint ? `${id}-hint` : '', err ? `${id}-err` : ''].filter(Boolean).join(' ') || undefined;
  return (
    <div className={`field${err ? ' has-error' : ''}`}>
      <label htmlFor={id}>{props.label}</label>
      {props.children({ id, 'aria-invalid': !!err, 'aria-describedby': described, name: props.name })}
      {props.hint && (
        <small id={`${id}-hint`} className="hint">
          {props.hint}
        </small>
      )}
      {err && (
        <small id={`${id}-err`} className="error" role="alert">
          {err}
        </small>
      )}
    </div>
  );
}

/** The form's own message, and (given the fields on screen) every message no visible field shows. */
export function FormError({ errors, shown }: { errors: Record<string, string>; shown?: readonly string[] }) {
  const rest = shown ? unplaced(errors, shown) : [];
  if (!errors._ && !rest.length) return null;
  return (
    <div className="error" role="alert">
      {errors._ && <p>{errors._}</p>}
      {rest.length > 0 && (
        <ul>
          {rest.map(([k, m]) => (
            <li key={k}>{m}</li>
          ))}
        </ul>
      )}
    </div>
  );
}

export function Toggle({
  label,
  checked,
  onChange,
  hint,
}: {
  label: string;
  checked: boolean;
  onChange: (v: boolean) => void;
  hint?: string;
}) {
  const id = useId();
  return (
    <div className="toggle">
      <input
        id={id}
        type="checkbox"
        role="switch"
        checked={checked}
        onChange={(e) => onChange(e.target.checked)}
        aria-describedby={hint ? `${id}-h` : undefined}
      />
      <label htmlFor={id}>{label}</label>
      {hint && (
        <small id={`${id}-h`} className="hint">
          {hint}
        </small>
      )}
    </div>
  );
}

/** A modal-like panel: focus moves into it, Escape closes it, focus returns to the opener. */
export function Panel({ title, onClose, children }: { title: string; onClose: () => void; children: ReactNode }) {
  const ref = useRef<HTMLElement>(null);
  useEffect(() => {
    const before = document.activeElement as HTMLElement | null;
    ref.current?.querySelector<HTMLElement>('input, select, textarea, button')?.focus();
    return () => before?.focus?.();
  }, []);
  return (
    <section className="panel" ref={ref} aria-label={title} onKeyDown={(e) => e.key === 'Escape' && onClose()}>
      <div className="panel-head">
        <h2>{title}</h2>
        <button type="button" className="link" onClick={onClose}>
          Close
        </button>
      </div>
      {children}
    </section>
  );
}

export function Tabs<T extends string>({
  value,
  options,
  onChange,
  label,
}: {
  value: T;
  options: [T, string][];
  onChange: (v: T) => void;
  label: string;
}) {
  return (
    <div className="tabs" role="group" aria-label={label}>
      {options.map(([v, text]) => (
        <button key={v} type="button" aria-pressed={v === value} className={v === value ? 'active' : ''} onClick={() => onChange(v)}>
          {text}
        </button>
      ))}
    </div>
  );
}

/** A comma-separated list of names, edited as text. */
export const names = (s: string) =>
  s
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);

/** A wizard's steps, the current one marked for sight and for screen readers. */
export function Steps({ steps, current }: { steps: readonly string[]; current: number }) {
  return (
    <ol className="steps" aria-label="Steps">
      {steps.map((s, i) => (
        <li key={s} aria-current={i === current ? 'step' : undefined} className={i === current ? 'active' : ''}>
          {s}
        </li>
      ))}
    </ol>
  );
}

/**
 * The guide's **Action** menu on a table row: a menu button (Enter, Space or ArrowDown opens it on the
 * first item; arrows move; Escape closes and returns to the button). `label` names the row's thing.
 */
export function ActionMenu({ label, items }: { label: string; items: { text: string; onSelect: () => void }[] }) {
  const [open, setOpen] = useState(false);
  const id = useId();
  const button = useRef<HTMLButtonElement>(null);
  const menu = useRef<HTMLUListElement>(null);
  const focusItem = (i: number) => {
    const all = menu.current?.querySelectorAll<HTMLElement>('[role="menuitem"]');
    if (all?.length) all[(i + all.length) % all.length].focus();
  };
  useEffect(() => {
    if (open) focusItem(0);
  }, [open]);
  const close = (refocus: boolean) => {
    setOpen(false);
    if (refocus) button.current?.focus();
  };
  const onMenuKey = (e: KeyboardEvent) => {
    const items = [...(menu.current?.querySelectorAll<HTMLElement>('[role="menuitem"]') ?? [])];
    const at = items.indexOf(document.activeElement as HTMLElement);
    if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      e.preventDefault();
      focusItem(at + (e.key === 'ArrowDown' ? 1 : -1));
    } else if (e.key === 'Escape') {
      e.stopPropagation();
      close(true);
    } else if (e.key === 'Tab') close(false);
  };
  return (
    <div className="action-menu" onBlur={(e) => !e.currentTarget.contains(e.relatedTarget as Node | null) && setOpen(false)}>
      <button
        ref={button}
        type="button"
        className="small"
        aria-haspopup="menu"
        aria-expanded={open}
        aria-controls={id}
        aria-label={`Action for ${label}`}
        onClick={() => setOpen(!open)}
        onKeyDown={(e) => {
          if (e.key === 'ArrowDown') {
            e.preventDefault();
            setOpen(true);
          }
        }}
      >
        Action ▾
      </button>
      <ul id={id} role="menu" aria-label={`Action for ${label}`} ref={menu} hidden={!open} onKeyDown={onMenuKey}>
        {items.map((it) => (
          <li key={it.text} role="none">
            <button
              type="button"
              role="menuitem"
              tabIndex={-1}
              onClick={() => {
                close(false);
                it.onSelect();
              }}
            >
              {it.text}
            </button>
          </li>
        ))}
      </ul>
    </div>
  );
}
