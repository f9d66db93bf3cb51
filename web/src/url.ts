// Page state that belongs in the URL (tabs and filters), so a shared link or a reload shows the same
// view and the back button steps through it. Defaults stay out of the URL.
import { useSearchParams } from 'react-router';

/** A tab kept in one query parameter; the first value is the default. */
export function useTab<T extends string>(name: string, values: readonly [T, ...T[]]): [T, (v: T) => void] {
  const [params, setParams] = useSearchParams();
  const raw = params.get(name) as T | null;
  const value = raw !== null && values.includes(raw) ? raw : values[0];
  const set = (v: T) =>
    setParams((p) => {
      const n = new URLSearchParams(p);
      if (v === values[0]) n.delete(name);
      else n.set(name, v);
      return n;
    });
  return [value, set];
}

/** A filter: several text query parameters, each '' (or its default) when absent. */
export function useFilter<K extends string>(
  defaults: Record<K, string>,
): [Record<K, string>, (v: Record<K, string>, replace?: boolean) => void] {
  const [params, setParams] = useSearchParams();
  const keys = Object.keys(defaults) as K[];
  const value = Object.fromEntries(keys.map((k) => [k, params.get(k) ?? defaults[k]])) as Record<K, string>;
  const set = (v: Record<K, string>, replace = false) =>
    setParams(
      (p) => {
        const n = new URLSearchParams(p);
        for (const k of keys) {
          if (v[k] && v[k] !== defaults[k]) n.set(k, v[k]);
          else n.delete(k);
        }
        return n;
      },
      { replace },
    );
  return [value, set];
}
