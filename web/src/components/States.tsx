import type { UseQueryResult } from '@tanstack/react-query';
import type { ReactNode } from 'react';
import { Link } from 'react-router';
import { ApiError } from '../api/http';

export function Loading({ label = 'Loading…' }: { label?: string }) {
  return (
    <div className="state" role="status" aria-live="polite">
      <span className="spinner" aria-hidden="true" /> {label}
    </div>
  );
}

export function Empty({ children }: { children: ReactNode }) {
  return <div className="state empty">{children}</div>;
}

export function ErrorState({ error, retry }: { error: unknown; retry?: () => void }) {
  const message = error instanceof ApiError ? error.message : error instanceof Error ? error.message : String(error);
  const details = error instanceof ApiError ? error.details : [];
  return (
    <div className="state error" role="alert">
      <strong>Something went wrong:</strong> {message}
      {details.length > 0 && (
        <ul>
          {details.map((detail) => (
            <li key={detail.field}>
              <code>{detail.field}</code> {detail.problem}
            </li>
          ))}
        </ul>
      )}
      {retry && (
        <button type="button" onClick={retry}>
          Try again
        </button>
      )}
    </div>
  );
}

/** A query's loading, error and empty states, and its data once there is some. */
export function QueryState<T>({
  query,
  isEmpty,
  empty,
  children,
}: {
  query: UseQueryResult<T>;
  isEmpty(data: T): boolean;
  empty: ReactNode;
  children(data: T): ReactNode;
}) {
  if (query.isPending) return <Loading />;
  if (query.isError) return <ErrorState error={query.error} retry={() => void query.refetch()} />;
  if (isEmpty(query.data)) return <Empty>{empty}</Empty>;
  return <>{children(query.data)}</>;
}

/** A page this person's role may not open: said in plain words, with a way back (no request is made). */
export function NotAllowed({ title, what }: { title: string; what: string }) {
  return (
    <section aria-labelledby="not-allowed-title" className="not-allowed">
      <h1 id="not-allowed-title">{title}</h1>
      <p>Your account cannot {what}.</p>
      <p>
        <Link to="/">Back to the start page</Link>
      </p>
    </section>
  );
}
