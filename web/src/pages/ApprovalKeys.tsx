// Single-key shortcuts for deciding: j / k move between requests, a approves, r rejects. Ignored while
// typing in a field or with a modifier held, so they never eat a comment's letters.
import { useEffect, useRef } from 'react';

export interface DecideKeys {
  next?: () => void;
  prev?: () => void;
  approve: () => void;
  reject: () => void;
}

const typing = (t: EventTarget | null) => t instanceof HTMLElement && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName));

export function useDecideKeys(keys: DecideKeys): void {
  const ref = useRef(keys);
  ref.current = keys;
  useEffect(() => {
    const on = (e: KeyboardEvent) => {
      if (e.ctrlKey || e.metaKey || e.altKey || typing(e.target)) return;
      const k = ref.current;
      const fn = { j: k.next, k: k.prev, a: k.approve, r: k.reject }[e.key];
      if (!fn) return;
      e.preventDefault();
      fn();
    };
    addEventListener('keydown', on);
    return () => removeEventListener('keydown', on);
  }, []);
}

/** Clicks the card's Approve or Reject button, so the key does exactly what the button does. */
export function press(root: HTMLElement | null | undefined, verdict: 'approve' | 'reject'): void {
  root?.querySelector<HTMLButtonElement>(`button[data-verdict="${verdict}"]`)?.click();
}
