import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { Link } from 'react-router';
import { getList } from '../api/http';
import { may, useSession } from '../api/session';
import { statuses, type Ticket } from '../api/types';
import { PriorityBadge, StatusBadge } from '../components/Badges';
import { DebouncedInput, PrioritySelect, ProjectSelect } from '../components/Filters';
import { Empty, ErrorState, Loading } from '../components/States';
import { Time } from '../components/Time';
import { useUrlState } from '../lib/useFilters';
import { useLive } from '../live/events';
import { NewTicket } from './NewTicket';

type Column = { key: string; label: string; internal?: boolean; render(ticket: Ticket): React.ReactNode };

const columns: Column[] = [
  { key: 'number', label: '#', render: (t) => t.number },
  {
    key: 'subject',
    label: 'Subject',
    render: (t) => <Link to={`/tickets/${encodeURIComponent(t.id)}`}>{t.subject ?? t.customer_name ?? t.id}</Link>,
  },
  { key: 'status', label: 'Status', render: (t) => <StatusBadge status={t.status} /> },
  { key: 'priority', label: 'Priority', render: (t) => <PriorityBadge priority={t.priority} /> },
  { key: 'customer', label: 'Customer', render: (t) => t.customer_name ?? t.customer_email ?? '—' },
  { key: 'project', label: 'Project', render: (t) => t.project ?? '—' },
  { key: 'assigned_to', label: 'Assignee', internal: true, render: (t) => t.assigned_to ?? '—' },
  { key: 'category', label: 'Category', render: (t) => t.category ?? '—' },
  { key: 'created_at', label: 'Created', render: (t) => <Time iso={t.created_at} /> },
  { key: 'updated_at', label: 'Updated', render: (t) => <Time iso={t.updated_at} /> },
];
const defaultColumns = ['number', 'subject', 'status', 'priority', 'customer', 'project', 'updated_at'];
const sortable: Record<string, string> = { number: 'number', priority: 'priority', created_at: 'created_at', updated_at: 'updated_at' };
const filterKeys = ['q', 'status', 'priority', 'project', 'customer', 'assigned_to', 'sort'] as const;
const pageSize = 50;

function useColumnChoice() {
  const [chosen, setChosen] = useState<string[]>(() => {
    try {
      const saved = JSON.parse(localStorage.getItem('stageline.columns') ?? 'null') as unknown;
      return Array.isArray(saved) ? (saved as string[]) : defaultColumns;
    } catch {
      return defaultColumns;
    }
  });
  const toggle = (key: string) => {
    const next = chosen.includes(key) ? chosen.filter((k) => k !== key) : [...chosen, key];
    setChosen(next);
    localStorage.setItem('stageline.columns', JSON.stringify(next));
  };
  return [chosen, toggle] as const;
}

export default function Tickets() {
  const { me } = useSession();
  const { changed } = useLive();
  const [filters, set] = useUrlState(filterKeys);
  // A stack of cursors: the last is the page on screen, so "Previous" needs no OFFSET.
  const [cursors, setCursors] = useState<string[]>([]);
  const [chosen, toggle] = useColumnChoice();
  const internal = may.seeInternals(me?.role);
  const visible = columns.filter((column) => chosen.includes(column.key) && (internal || !column.internal));
  const sort = filters.sort || '-created_at';

  const query = useQuery({
    queryKey: ['tickets', filters, cursors.at(-1)],
    queryFn: () => getList<Ticket>('/api/tickets', { ...filters, sort, limit: pageSize, cursor: cursors.at(-1), count: true }),
    placeholderData: keepPreviousData,
  });
  const update = (changes: Partial<Record<(typeof filterKeys)[number], string>>) => {
    setCursors([]);
    set(changes);
  };
  const sortBy = (key: string) => update({ sort: sort === key ? `-${key}` : key });

  return (
    <section aria-labelledby="tickets-title">
      <div className="page-head">
        <h1 id="tickets-title">{me?.role === 'customer' ? 'My tickets' : 'Tickets'}</h1>
        {(may.write(me?.role) || me?.role === 'customer') && <NewTicket />}
      </div>
      <form className="filters" role="search" aria-label="Ticket filters" onSubmit={(event) => event.preventDefault()}>
        <label className="grow">
          Search
          <DebouncedInput type="search" value={filters.q} onChange={(q) => update({ q })} placeholder="subject, description, customer" />
        </label>
        <label>
          Status
          <select value={filters.status} onChange={(event) => update({ status: event.target.value })}>
            <option value="">Any</option>
            {statuses.map((status) => (
              <option key={status} value={status}>
                {status.replace('_', ' ')}
              </option>
            ))}
            {filters.status.includes(',') && <option value={filters.status}>{filters.status}</option>}
          </select>
        </label>
        <PrioritySelect value={filters.priority} onChange={(priority) => update({ priority })} />
        {internal && (
          <>
            <ProjectSelect value={filters.project} onChange={(project) => update({ project })} />
            <label>
              Customer
              <DebouncedInput value={filters.customer} onChange={(customer) => update({ customer })} />
            </label>
            <label>
              Assignee
              <DebouncedInput value={filters.assigned_to} onChange={(assigned_to) => update({ assigned_to })} />
            </label>
          </>
        )}
        <details className="columns">
          <summary>Columns</summary>
          <fieldset>
            <legend className="sr-only">Columns to show</legend>
            {columns
              .filter((column) => internal || !column.internal)
              .map((column) => (
                <label key={column.key} className="check">
                  <input type="checkbox" checked={chosen.includes(column.key)} onChange={() => toggle(column.key)} /> {column.label}
                </label>
              ))}
          </fieldset>
        </details>
      </form>

      {query.isPending ? (
        <Loading />
      ) : query.isError ? (
        <ErrorState error={query.error} retry={() => void query.refetch()} />
      ) : query.data.items.length === 0 ? (
        <Empty>No tickets match these filters.</Empty>
      ) : (
        <>
          <div className="table-wrap">
            <table className="tickets">
              <thead>
                <tr>
                  {visible.map((column) => {
                    const key = sortable[column.key];
                    const direction = sort === key ? 'ascending' : sort === `-${key}` ? 'descending' : 'none';
                    return (
                      <th key={column.key} scope="col" aria-sort={key ? direction : undefined}>
                        {key ? (
                          <button type="button" className="sort" onClick={() => sortBy(key)}>
                            {column.label}{' '}
                            <span aria-hidden="true">{direction === 'ascending' ? '▲' : direction === 'descending' ? '▼' : '↕'}</span>
                          </button>
                        ) : (
                          column.label
                        )}
                      </th>
                    );
                  })}
                </tr>
              </thead>
              <tbody>
                {query.data.items.map((ticket) => (
                  <tr key={ticket.id} className={changed.has(ticket.id) ? 'flash' : undefined}>
                    {visible.map((column) => (
                      <td key={column.key} data-label={column.label}>
                        {column.render(ticket)}
                      </td>
                    ))}
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <nav className="pager" aria-label="Pages">
            <button type="button" disabled={cursors.length === 0} onClick={() => setCursors(cursors.slice(0, -1))}>
              ← Previous
            </button>
            <span>
              Page {cursors.length + 1}
              {query.data.page.total !== undefined &&
                ` of ${Math.max(1, Math.ceil(query.data.page.total / pageSize))} (${query.data.page.total} tickets)`}
            </span>
            <button
              type="button"
              disabled={!query.data.page.next_cursor}
              onClick={() => setCursors([...cursors, query.data.page.next_cursor!])}
            >
              Next →
            </button>
          </nav>
        </>
      )}
    </section>
  );
}
