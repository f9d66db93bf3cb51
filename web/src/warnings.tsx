// Dead ends told to the administrator before they bite: a device nobody can reach, a workflow level
// that names nobody. A status region, so a screen reader hears a warning that appears.
import './warnings.css';

/** Dead ends in words (a device without an account, a workflow level that names nobody). */
export function Warnings({ items, label = 'Warning' }: { items: string[]; label?: string }) {
  if (!items.length) return null;
  return (
    <div className="warnings" role="status" aria-label={label}>
      {items.length === 1 ? (
        <p>⚠ {items[0]}</p>
      ) : (
        <ul>
          {items.map((w) => (
            <li key={w}>⚠ {w}</li>
          ))}
        </ul>
      )}
    </div>
  );
}
