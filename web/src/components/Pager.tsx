/**
 * Keyset paging: `cursors` is a stack whose last entry is the page on screen, so going back needs no OFFSET.
 * `pages` is shown when the list knows its total.
 */
export function Pager({
  cursors,
  setCursors,
  next,
  pages,
  labels = ['← Previous', 'Next →'],
}: {
  cursors: string[];
  setCursors(cursors: string[]): void;
  next: string | null;
  pages?: number;
  labels?: [string, string];
}) {
  return (
    <nav className="pager" aria-label="Pages">
      <button type="button" disabled={cursors.length === 0} onClick={() => setCursors(cursors.slice(0, -1))}>
        {labels[0]}
      </button>
      <span>
        Page {cursors.length + 1}
        {pages !== undefined && ` of ${Math.max(1, pages)}`}
      </span>
      <button type="button" disabled={!next} onClick={() => next && setCursors([...cursors, next])}>
        {labels[1]}
      </button>
    </nav>
  );
}
