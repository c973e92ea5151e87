import { useState } from 'react';
import { withQuery, type Query } from '../../api/http';

const browserZone = Intl.DateTimeFormat().resolvedOptions().timeZone;

/**
 * CSV and NDJSON downloads of every ticket the list matches (same filters, search and view), as plain links: the
 * browser streams the server's answer to a file instead of the page holding it in memory.
 */
export function ExportLinks({ query, columns, disabled }: { query: Query; columns: readonly string[]; disabled: boolean }) {
  const [localTimes, setLocalTimes] = useState(true);
  const href = (format: 'csv' | 'ndjson') =>
    withQuery('/api/tickets/export', {
      ...query,
      format,
      columns: columns.join(','),
      time_zone: localTimes && browserZone ? browserZone : undefined,
    });
  return (
    <div className="export" role="group" aria-label="Export">
      <span className="muted small">Export</span>
      {(['csv', 'ndjson'] as const).map((format) =>
        disabled ? (
          <a key={format} className="button" aria-disabled="true" title="Fix the search first">
            {format.toUpperCase()}
          </a>
        ) : (
          <a key={format} className="button" href={href(format)} download>
            {format.toUpperCase()}
          </a>
        ),
      )}
      {browserZone && (
        <label className="check small">
          <input type="checkbox" checked={localTimes} onChange={(event) => setLocalTimes(event.target.checked)} /> times in {browserZone}
        </label>
      )}
    </div>
  );
}
