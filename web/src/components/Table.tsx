import type { ReactNode } from 'react';

/**
 * A list table as every admin page draws it: scrolling on a narrow screen, one header cell per column name, and with
 * `actions` a last column of buttons whose header only screen readers hear. The rows are the children.
 */
export function Table({
  headers,
  actions = false,
  className,
  label,
  children,
}: {
  headers: readonly string[];
  actions?: boolean;
  className?: string;
  /** The table's accessible name, where no heading names it. */
  label?: string;
  children: ReactNode;
}) {
  return (
    <div className="table-wrap">
      <table className={className} aria-label={label}>
        <thead>
          <tr>
            {headers.map((header) => (
              <th key={header} scope="col">
                {header}
              </th>
            ))}
            {actions && (
              <th scope="col">
                <span className="sr-only">Actions</span>
              </th>
            )}
          </tr>
        </thead>
        <tbody>{children}</tbody>
      </table>
    </div>
  );
}
