// A type-ahead picker (ARIA 1.2 combobox + listbox) that offers only names that exist: it loads users,
// user groups, device groups or devices from the API once and filters them as the admin types.
// Props: kind ('user' | 'group' | 'deviceGroup' | 'device'), value (string, '' for none; string[] when multiple),
// onChange(value), multiple?, label (accessible name), id? (the input's id, for a <label htmlFor>), plus aria-invalid/-describedby.
import { useEffect, useId, useMemo, useRef, useState, type KeyboardEvent } from 'react';
import { get } from './api';
import './picker.css';

export type PickerKind = 'user' | 'group' | 'deviceGroup' | 'device';
export interface PickerOption {
  value: string;
  text: string;
}

const SOURCES: Record<PickerKind, { path: string; of: (x: Record<string, unknown>) => PickerOption }> = {
  user: {
    path: '/users',
    of: (u) => ({
      value: String(u.username),
      text: u.displayName && u.displayName !== u.username ? `${String(u.displayName)} (${String(u.username)})` : String(u.username),
    }),
  },
  group: { path: '/user-groups', of: (g) => ({ value: String(g.name), text: String(g.name) }) },
  deviceGroup: { path: '/device-groups', of: (g) => ({ value: String(g.name), text: String(g.name) }) },
  device: { path: '/devices', of: (d) => ({ value: String(d.name), text: String(d.name) }) },
};
const NOUN: Record<PickerKind, string> = { user: 'user', group: 'user group', deviceGroup: 'device group', device: 'device' };
/** At most this many suggestions at once: type more to narrow them. */
const SHOWN = 50;

/** The names of one kind, loaded once per mounted picker (so a name added a moment ago is offered). */
export function usePickerOptions(kind: PickerKind): { options: PickerOption[] | null; error: string | null } {
  const [options, setOptions] = useState<PickerOption[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    let live = true;
    const src = SOURCES[kind];
    get<{ items: Record<string, unknown>[] }>(src.path).then(
      (r) => live && setOptions(r.items.map(src.of)),
      (e: Error) => live && setError(e.message),
    );
    return () => {
      live = false;
    };
  }, [kind]);
  return { options, error };
}

export function matches(options: PickerOption[], query: string, exclude: string[] = []): PickerOption[] {
  const q = query.trim().toLowerCase();
  const out = options.filter((o) => !exclude.includes(o.value) && (!q || o.text.toLowerCase().includes(q)));
  // Names that start with what was typed come first.
  return out.sort((a, b) => Number(!a.value.toLowerCase().startsWith(q)) - Number(!b.value.toLowerCase().startsWith(q))).slice(0, SHOWN);
}

type Common = {
  kind: PickerKind;
  label: string;
  id?: string;
  'aria-invalid'?: boolean;
  'aria-describedby'?: string;
  placeholder?: string;
};
export type PickerProps =
  | (Common & { multiple?: false; value: string; onChange: (v: string) => void })
  | (Common & { multiple: true; value: string[]; onChange: (v: string[]) => void });

/** The picker's state: what is typed, whether the list is open, which suggestion is active. */
function usePicker(props: PickerProps) {
  const { kind } = props;
  const auto = useId();
  const id = props.id ?? `${auto}-input`;
  const listId = `${auto}-list`;
  const { options, error } = usePickerOptions(kind);
  const chosen = props.multiple ? props.value : props.value ? [props.value] : [];
  const [text, setText] = useState(props.multiple ? '' : props.value);
  const [open, setOpen] = useState(false);
  const [active, setActive] = useState(0);
  const input = useRef<HTMLInputElement>(null);
  useEffect(() => {
    if (!props.multiple) setText(props.value);
  }, [props.multiple ? '' : props.value]);
  const list = useMemo(() => matches(options ?? [], text, props.multiple ? chosen : []), [options, text, chosen.join('\n')]);
  const textOf = (v: string) => options?.find((o) => o.value === v)?.text ?? v;

  const choose = (o: PickerOption) => {
    if (props.multiple) {
      props.onChange([...props.value, o.value]);
      setText('');
    } else {
      props.onChange(o.value);
      setText(o.value);
    }
    // Closed after a choice, so the list never covers the buttons below; typing opens it again.
    setOpen(false);
    setActive(0);
  };
  const remove = (v: string) => {
    if (props.multiple) props.onChange(props.value.filter((x) => x !== v));
    input.current?.focus();
  };
  // Leaving the field keeps only a name that exists: an exact name is taken, anything else is undone.
  const settle = () => {
    setOpen(false);
    const exact = options?.find((o) => o.value === text.trim());
    if (props.multiple) {
      if (exact && !props.value.includes(exact.value)) props.onChange([...props.value, exact.value]);
      setText('');
    } else if (text.trim() === '') {
      if (props.value) props.onChange('');
    } else if (exact) {
      if (exact.value !== props.value) props.onChange(exact.value);
    } else setText(props.value);
  };
  const shown = open && list.length > 0;
  const activeId = shown && list[active] ? `${auto}-opt-${active}` : undefined;
  return {
    id,
    listId,
    auto,
    options,
    error,
    chosen,
    text,
    setText,
    open,
    setOpen,
    active,
    setActive,
    input,
    list,
    textOf,
    choose,
    remove,
    settle,
    shown,
    activeId,
  };
}

type PickerState = ReturnType<typeof usePicker>;

/** Arrows move through the suggestions, Enter takes one, Escape closes the list, Backspace drops the last chip. */
function keys(props: PickerProps, st: PickerState) {
  const { open, setOpen, list, active, setActive, choose, text, remove } = st;
  return (e: KeyboardEvent<HTMLInputElement>) => {
    if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      e.preventDefault();
      if (!open) return setOpen(true);
      const n = list.length || 1;
      setActive((a) => (a + (e.key === 'ArrowDown' ? 1 : n - 1)) % n);
    } else if (e.key === 'Enter' && open && list[active]) {
      // Enter picks the suggestion instead of submitting the form.
      e.preventDefault();
      choose(list[active]);
    } else if (e.key === 'Escape' && open) {
      // The first Escape closes the list; the next one may close the surrounding panel.
      e.stopPropagation();
      setOpen(false);
    } else if (e.key === 'Backspace' && props.multiple && text === '' && props.value.length) {
      remove(props.value[props.value.length - 1]);
    }
  };
}

function Chosen({
  label,
  chosen,
  textOf,
  remove,
}: {
  label: string;
  chosen: string[];
  textOf: (v: string) => string;
  remove: (v: string) => void;
}) {
  return (
    <ul className="picker-chosen" aria-label={`${label}: chosen`}>
      {chosen.map((v) => (
        <li key={v}>
          <span>{textOf(v)}</span>
          <button type="button" className="picker-remove" aria-label={`Remove ${v}`} onClick={() => remove(v)}>
            ×
          </button>
        </li>
      ))}
    </ul>
  );
}

export function Picker(props: PickerProps) {
  const { kind, label } = props;
  const st = usePicker(props);
  const { id, listId, auto, options, error, chosen, text, open, active, list, shown, activeId } = st;
  return (
    <div className="picker">
      {props.multiple && chosen.length > 0 && <Chosen label={label} chosen={chosen} textOf={st.textOf} remove={st.remove} />}
      <input
        ref={st.input}
        id={id}
        type="text"
        role="combobox"
        autoComplete="off"
        spellCheck={false}
        aria-label={props.id ? undefined : label}
        aria-autocomplete="list"
        aria-expanded={shown}
        aria-controls={listId}
        aria-activedescendant={activeId}
        aria-invalid={props['aria-invalid'] || undefined}
        aria-describedby={props['aria-describedby']}
        placeholder={props.placeholder ?? (props.multiple ? `Type to add a ${NOUN[kind]}` : `Type a ${NOUN[kind]} name`)}
        value={text}
        onChange={(e) => {
          st.setText(e.target.value);
          st.setOpen(true);
          st.setActive(0);
        }}
        onFocus={() => st.setOpen(true)}
        onClick={() => st.setOpen(true)}
        onBlur={st.settle}
        onKeyDown={keys(props, st)}
      />
      <ul id={listId} role="listbox" aria-label={`${label}: suggestions`} className="picker-list" hidden={!shown}>
        {shown &&
          list.map((o, i) => (
            <li
              key={o.value}
              id={`${auto}-opt-${i}`}
              role="option"
              aria-selected={i === active}
              className={i === active ? 'active' : ''}
              // mousedown, not click: the input keeps focus, so its blur does not undo the choice.
              onMouseDown={(e) => {
                e.preventDefault();
                st.choose(o);
              }}
            >
              {o.text}
            </li>
          ))}
      </ul>
      {open && options && list.length === 0 && (
        <small className="hint picker-none" role="status">
          {text.trim() ? `No ${NOUN[kind]} matches '${text.trim()}'.` : `No more ${NOUN[kind]}s to add.`}
        </small>
      )}
      {error && (
        <small className="error" role="status">
          Could not load the {NOUN[kind]}s: {error}
        </small>
      )}
    </div>
  );
}
