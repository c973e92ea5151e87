import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { useCallback, useState } from 'react';
import { Link } from 'react-router';
import { api, pageOf } from '../api/client';
import { useCan } from '../api/session';
import { statuses, type QueryOf, type SavedView, type TicketSort, type ViewColumn } from '../api/types';
import { DebouncedInput, PrioritySelect, ProjectSelect } from '../components/Filters';
import { Pager } from '../components/Pager';
import { SearchBox } from '../components/SearchBox';
import { ForecastLine } from '../components/Forecast';
import { Empty, ErrorState, Loading } from '../components/States';
import { useNow } from '../components/Time';
import { statusLabel } from '../lib/format';
import { filtersAsQuery, searchProblem } from '../lib/search';
import { useUrlState } from '../lib/useFilters';
import { useLive } from '../live/events';
import { NewTicket } from './NewTicket';
import { columnsFor, latenessColumns, sortLabel, toggled, useColumnChoice, visibleColumns } from './tickets/columns';
import { ExportLinks } from './tickets/ExportLinks';
import { FieldFilters, useFieldColumnDefinitions, useFieldColumns, useFieldFilters } from './tickets/FieldFilters';
import { fieldsOf } from '../api/fields';
import { FieldValue } from '../components/FieldControl';
import { SavedViews } from './tickets/SavedViews';
import { SubscribeButton } from './tickets/SubscribeButton';
import { draftOf, ViewDialog, type ViewDraft } from './tickets/ViewDialog';
import { useView } from './tickets/views';

const filterKeys = ['q', 'view', 'status', 'priority', 'project', 'customer', 'assigned_to', 'sort', 'breach_probability_min'] as const;
type Filters = Record<(typeof filterKeys)[number], string>;
const pageSize = 50;

/** Columns: the open view's (adjustable until saved), else the viewer's own choice kept in this browser. */
function useColumns(view: SavedView | undefined) {
  const [own, setOwn] = useColumnChoice();
  const [adjusted, setAdjusted] = useState<{ view: string; columns: ViewColumn[] } | null>(null);
  if (!view || view.columns.length === 0) return [own, (key: ViewColumn) => setOwn(toggled(own, key))] as const;
  const chosen = adjusted?.view === view.id ? adjusted.columns : view.columns;
  return [chosen, (key: ViewColumn) => setAdjusted({ view: view.id, columns: toggled(chosen, key) })] as const;
}

export default function Tickets() {
  const { changed } = useLive();
  const [filters, set] = useUrlState(filterKeys);
  // Not a filter: whether each row carries its delivery forecast (docs/forecast.md).
  const [{ forecast: forecastShown }, setForecast] = useUrlState(['forecast'] as const);
  const withForecast = forecastShown === '1';
  const [cursors, setCursors] = useState<string[]>([]);
  const fieldFilters = useFieldFilters();
  const [ownFieldColumns, toggleOwnFieldColumn] = useFieldColumns(filters.project);
  const view = useView(filters.view);
  const [chosen, toggle] = useColumns(view.data);
  // A view with columns names its custom fields among them (`field.<key>`); else the viewer's choice for the project.
  const viewHasColumns = Boolean(view.data && view.data.columns.length > 0);
  const fieldColumnKeys = viewHasColumns
    ? chosen.filter((column) => column.startsWith('field.')).map((column) => column.slice('field.'.length))
    : ownFieldColumns;
  const toggleFieldColumn = (key: string) => (viewHasColumns ? toggle(`field.${key}` as ViewColumn) : toggleOwnFieldColumn(key));
  const fieldColumns = useFieldColumnDefinitions(filters.project, fieldColumnKeys);
  const [editing, setEditing] = useState<{ draft: ViewDraft; view?: SavedView } | null>(null);
  // Internal fields and history: the policy's answer, served as an ability (issue 21).
  const internal = useCan('internal:read');
  const staff = useCan('monitor:read');
  const mayCreate = useCan('ticket:create');
  const visible = visibleColumns(chosen, internal);
  const { sort: chosenSort, ...listFilters } = filters;
  const sort = (chosenSort || view.data?.sort || (filters.q.trim() ? '-rank' : '-created_at')) as TicketSort;

  const query = useQuery({
    queryKey: ['tickets', filters, fieldFilters.values, cursors.at(-1), withForecast],
    queryFn: () =>
      pageOf(
        api.GET('/api/tickets', {
          params: {
            query: {
              ...listFilters,
              breach_probability_min: listFilters.breach_probability_min ? Number(listFilters.breach_probability_min) : undefined,
              ...fieldFilters.values,
              sort: chosenSort,
              limit: pageSize,
              cursor: cursors.at(-1),
              count: true,
              ...(withForecast ? { forecast: true } : {}),
            } as QueryOf<'/api/tickets'>,
          },
        }),
      ),
    placeholderData: keepPreviousData,
  });
  const problem = searchProblem(query.error);
  const update = (changes: Partial<Filters>) => {
    setCursors([]);
    set(changes);
  };
  const search = useCallback(
    (q: string) => {
      setCursors([]);
      set({ q });
    },
    [set],
  );
  const sortBy = (key: TicketSort) => update({ sort: sort === key ? `-${key}` : key });
  // Lateness sorts start most-late first; a second click reverses.
  const sortByLateness = (key: TicketSort) => update({ sort: sort === key ? key.replace(/^-/, '') : key });
  const now = useNow();
  const lateness = internal ? latenessColumns : [];

  // The dialog starts from what the list shows now: the view's search plus any filters added on top.
  const extra = filtersAsQuery(filters, fieldFilters.values);
  const onScreen = (base?: SavedView): ViewDraft => ({
    name: base?.name ?? '',
    query: [base?.query, extra].filter(Boolean).join(' '),
    sort: (chosenSort as TicketSort) || base?.sort || null,
    columns: [...visible.map((column) => column.key), ...fieldColumns.shown.map((field) => `field.${field.key}` as ViewColumn)],
    layout: base?.layout ?? 'list',
    shared: base?.shared ?? false,
  });
  const edit = (target: SavedView) =>
    setEditing({
      view: target,
      draft: target.id === view.data?.id ? onScreen(target) : draftOf(target),
    });

  return (
    <section aria-labelledby="tickets-title">
      <div className="page-head">
        <h1 id="tickets-title">{view.data?.name ?? (staff ? 'Tickets' : 'My tickets')}</h1>
        <div className="actions">
          <button type="button" onClick={() => setEditing({ draft: onScreen() })}>
            Save as view
          </button>
          {mayCreate && <NewTicket project={filters.project} />}
        </div>
      </div>
      <div className="with-sidebar">
        <SavedViews activeId={filters.view} onEdit={edit} />
        <div className="list-main">
          {filters.view && (
            <div className="view-bar" role="status">
              {view.isError ? (
                <span className="text-bad">This view cannot be opened: {view.error.message}</span>
              ) : (
                <span>
                  View <strong>{view.data?.name ?? '…'}</strong>
                  {view.data?.query && (
                    <>
                      {' '}
                      <code>{view.data.query}</code>
                    </>
                  )}
                  {view.data && <span className="muted small"> · {view.data.shared ? 'shared with everybody' : 'only you'}</span>}
                </span>
              )}
              <span className="actions">
                {view.data && <SubscribeButton viewId={view.data.id} />}
                {view.data?.changeable && (
                  <button type="button" className="link" onClick={() => edit(view.data)}>
                    Edit view
                  </button>
                )}
                <Link to="/tickets">Show all tickets</Link>
              </span>
            </div>
          )}
          <form className="filters" role="search" aria-label="Ticket filters" onSubmit={(event) => event.preventDefault()}>
            <SearchBox
              className="grow"
              label="Search"
              value={filters.q}
              onSearch={search}
              problem={problem}
              placeholder="words, or fields: status:open priority:high"
            />
            <label>
              Status
              <select value={filters.status} onChange={(event) => update({ status: event.target.value })}>
                <option value="">Any</option>
                {statuses.map((status) => (
                  <option key={status} value={status}>
                    {statusLabel(status)}
                  </option>
                ))}
                {filters.status.includes(',') && <option value={filters.status}>{filters.status}</option>}
              </select>
            </label>
            <PrioritySelect value={filters.priority} onChange={(priority) => update({ priority })} />
            {internal && (
              <>
                <ProjectSelect
                  value={filters.project}
                  // Another project has other fields: its field filters go with it.
                  onChange={(project) =>
                    update({ project, ...Object.fromEntries(Object.keys(fieldFilters.values).map((key) => [key, ''])) })
                  }
                />
                {filters.project && (
                  <FieldFilters
                    project={filters.project}
                    values={fieldFilters.values}
                    onChange={(changes) => {
                      setCursors([]);
                      fieldFilters.set(changes);
                    }}
                  />
                )}
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
                {columnsFor(internal).map((column) => (
                  <label key={column.key} className="check">
                    <input type="checkbox" checked={chosen.includes(column.key)} onChange={() => toggle(column.key)} /> {column.label}
                  </label>
                ))}
              </fieldset>
              {fieldColumns.all.length > 0 && (
                <fieldset>
                  <legend className="small muted">Fields of the project</legend>
                  {fieldColumns.all.map((definition) => (
                    <label key={definition.key} className="check">
                      <input
                        type="checkbox"
                        checked={fieldColumnKeys.includes(definition.key)}
                        onChange={() => toggleFieldColumn(definition.key)}
                      />{' '}
                      {definition.label}
                    </label>
                  ))}
                </fieldset>
              )}
            </details>
            {staff && (
              <label className="check">
                <input
                  type="checkbox"
                  checked={withForecast}
                  onChange={(event) => setForecast({ forecast: event.target.checked ? '1' : '' })}
                />{' '}
                Show forecast
              </label>
            )}
            {staff && (
              <label>
                Breach probability
                <select
                  value={filters.breach_probability_min}
                  onChange={(event) => update({ breach_probability_min: event.target.value })}
                  title="Open tickets whose forecast (made every 2 minutes) is at least this likely to miss a due time"
                >
                  <option value="">any</option>
                  {['0.5', '0.7', '0.9'].map((p) => (
                    <option key={p} value={p}>
                      ≥ {Number(p) * 100} %
                    </option>
                  ))}
                </select>
              </label>
            )}
            {staff && (
              <button
                type="button"
                className="link"
                aria-pressed={sort === '-breach_probability'}
                onClick={() => update({ sort: sort === '-breach_probability' ? '' : '-breach_probability' })}
              >
                Most likely to breach first
              </button>
            )}
          </form>

          <div className="list-tools">
            <span className="muted small">
              {query.data?.page.total !== undefined &&
                !problem &&
                `${query.data.page.total} ticket${query.data.page.total === 1 ? '' : 's'} · `}
              {sortLabel(sort, (key) => fieldColumns.all.find((field) => field.key === key)?.label)}
            </span>
            <ExportLinks
              query={{ ...listFilters, ...fieldFilters.values, sort: chosenSort }}
              columns={[...visible.map((column) => column.key as string), ...fieldColumns.shown.map((field) => `field.${field.key}`)]}
              disabled={problem !== null}
            />
          </div>

          {problem ? (
            <Empty>Fix the search above to see tickets.</Empty>
          ) : query.isPending ? (
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
                        const key = column.sort;
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
                      {fieldColumns.shown.map((field) => {
                        const key = `field.${field.key}` as TicketSort;
                        const direction = sort === key ? 'ascending' : sort === `-${key}` ? 'descending' : 'none';
                        return (
                          <th key={field.key} scope="col" aria-sort={direction}>
                            <button type="button" className="sort" onClick={() => sortBy(key)}>
                              {field.label}{' '}
                              <span aria-hidden="true">{direction === 'ascending' ? '▲' : direction === 'descending' ? '▼' : '↕'}</span>
                            </button>
                          </th>
                        );
                      })}
                      {lateness.map((column) => {
                        const key = column.sort;
                        const plainKey = key?.replace(/^-/, '');
                        const direction = sort === key ? 'descending' : sort === plainKey ? 'ascending' : 'none';
                        return (
                          <th key={column.key} scope="col" aria-sort={key ? direction : undefined}>
                            {key ? (
                              <button type="button" className="sort" onClick={() => sortByLateness(key)}>
                                {column.label}{' '}
                                <span aria-hidden="true">{direction === 'ascending' ? '▲' : direction === 'descending' ? '▼' : '↕'}</span>
                              </button>
                            ) : (
                              column.label
                            )}
                          </th>
                        );
                      })}
                      {withForecast && <th scope="col">Forecast (breach probability, finish)</th>}
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
                        {fieldColumns.shown.map((field) => (
                          <td key={field.key} data-label={field.label}>
                            <FieldValue definition={field} value={fieldsOf(ticket)[field.key]} />
                          </td>
                        ))}
                        {lateness.map((column) => (
                          <td key={column.key} data-label={column.label}>
                            {column.render(ticket, now)}
                          </td>
                        ))}
                        {withForecast && (
                          <td data-label="Forecast">
                            {ticket.status === 'closed' ? (
                              <span className="muted" title="Closed: no forecast">
                                —
                              </span>
                            ) : (
                              <ForecastLine forecast={ticket.forecast} className="row-forecast" />
                            )}
                          </td>
                        )}
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
              <Pager
                cursors={cursors}
                setCursors={setCursors}
                next={query.data.page.next_cursor}
                pages={query.data.page.total === undefined ? undefined : Math.ceil(query.data.page.total / pageSize)}
              />
            </>
          )}
        </div>
      </div>
      <ViewDialog draft={editing?.draft ?? null} view={editing?.view} onClose={() => setEditing(null)} />
    </section>
  );
}
