import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useEffect, useRef, useState, type FormEvent } from 'react';
import { useNavigate } from 'react-router';
import { api, dataOf } from '../../api/client';
import { useCan } from '../../api/session';
import type { SavedView, TicketSort } from '../../api/types';
import { ErrorState } from '../../components/States';
import { columnsFor, defaultColumns, sortLabel, sortLabels, toggled } from './columns';
import { viewPath } from './views';

export type ViewDraft = Pick<SavedView, 'name' | 'query' | 'sort' | 'columns' | 'layout' | 'shared'>;

/** A stored view's writable fields; no columns means the default ones, shown as such. */
export const draftOf = (view: SavedView): ViewDraft => ({
  name: view.name,
  query: view.query,
  sort: view.sort,
  columns: view.columns.length ? view.columns : defaultColumns,
  layout: view.layout,
  shared: view.shared,
});

/**
 * Saves what the list shows as a view (or changes an existing one): name, search, sort, columns, layout, and —
 * for agents and admins — whether everybody sees it. Opens when `draft` is given; `view` is the one being edited.
 */
export function ViewDialog({ draft, view, onClose }: { draft: ViewDraft | null; view?: SavedView; onClose(): void }) {
  const dialog = useRef<HTMLDialogElement>(null);
  const internal = useCan('internal:read');
  const canShare = useCan('view:share');
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const [form, setForm] = useState<ViewDraft | null>(draft);

  const finish = (path?: string) => {
    void queryClient.invalidateQueries({ queryKey: ['views'] });
    onClose();
    if (path) void navigate(path);
  };
  const save = useMutation({
    mutationFn: (body: ViewDraft) =>
      view
        ? dataOf(api.PATCH('/api/views/{id}', { params: { path: { id: view.id } }, body: { ...body, version: view.version } }))
        : dataOf(api.POST('/api/views', { body })),
    onSuccess: (saved) => finish(viewPath(saved)),
  });
  const remove = useMutation({
    mutationFn: (id: string) => api.DELETE('/api/views/{id}', { params: { path: { id } } }),
    onSuccess: () => finish('/tickets'),
  });

  const { reset: resetSave } = save;
  const { reset: resetRemove } = remove;
  useEffect(() => {
    setForm(draft);
    resetSave();
    resetRemove();
    if (draft) dialog.current?.showModal();
    else dialog.current?.close();
  }, [draft, resetSave, resetRemove]);

  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (form) save.mutate({ ...form, name: form.name.trim(), query: form.query.trim() });
  };
  const change = (changes: Partial<ViewDraft>) => setForm((current) => current && { ...current, ...changes });

  return (
    <dialog ref={dialog} aria-labelledby="view-dialog-title" onClose={onClose} className="view-dialog">
      {form && (
        <form onSubmit={submit} className="stack">
          <h2 id="view-dialog-title">{view ? `Edit view “${view.name}”` : 'Save as view'}</h2>
          <label>
            Name
            <input value={form.name} onChange={(event) => change({ name: event.target.value })} required maxLength={200} autoFocus />
          </label>
          <label>
            Search
            <input
              value={form.query}
              onChange={(event) => change({ query: event.target.value })}
              maxLength={1000}
              placeholder="every ticket"
              spellCheck={false}
              className="mono"
            />
          </label>
          <div className="row">
            <label>
              Sort
              <select value={form.sort ?? ''} onChange={(event) => change({ sort: (event.target.value || null) as TicketSort | null })}>
                <option value="">Default</option>
                {Object.entries(sortLabels).map(([value, label]) => (
                  <option key={value} value={value}>
                    {label}
                  </option>
                ))}
                {form.sort && !(form.sort in sortLabels) && <option value={form.sort}>{sortLabel(form.sort)}</option>}
              </select>
            </label>
            <fieldset className="inline-choice">
              <legend>Opens as</legend>
              {(['list', 'board'] as const).map((layout) => (
                <label key={layout} className="check">
                  <input type="radio" name="layout" checked={form.layout === layout} onChange={() => change({ layout })} />{' '}
                  {layout === 'list' ? 'List' : 'Board'}
                </label>
              ))}
            </fieldset>
          </div>
          <fieldset className="column-choice">
            <legend>Columns</legend>
            {columnsFor(internal).map((column) => (
              <label key={column.key} className="check">
                <input
                  type="checkbox"
                  checked={form.columns.includes(column.key)}
                  onChange={() => change({ columns: toggled(form.columns, column.key) })}
                />{' '}
                {column.label}
              </label>
            ))}
            {/* Custom field columns (`field.<key>`) come from the list's field columns; here they can be left out. */}
            {form.columns
              .filter((column) => column.startsWith('field.'))
              .map((column) => (
                <label key={column} className="check">
                  <input type="checkbox" checked onChange={() => change({ columns: toggled(form.columns, column) })} />{' '}
                  {column.slice('field.'.length)}
                </label>
              ))}
          </fieldset>
          {canShare ? (
            <fieldset className="inline-choice">
              <legend>Who sees it</legend>
              <label className="check">
                <input type="radio" name="shared" checked={!form.shared} onChange={() => change({ shared: false })} /> Only me
              </label>
              <label className="check">
                <input type="radio" name="shared" checked={form.shared} onChange={() => change({ shared: true })} /> Everybody (shared)
              </label>
            </fieldset>
          ) : (
            <p className="muted small">Only you see this view.</p>
          )}
          {save.isError && <ErrorState error={save.error} />}
          {remove.isError && <ErrorState error={remove.error} />}
          <div className="actions">
            {view && (
              <button
                type="button"
                className="danger"
                disabled={remove.isPending}
                onClick={() => window.confirm(`Delete the view “${view.name}”?`) && remove.mutate(view.id)}
              >
                Delete view
              </button>
            )}
            <span className="spacer" />
            <button type="button" onClick={onClose}>
              Cancel
            </button>
            <button type="submit" className="primary" disabled={save.isPending}>
              {save.isPending ? 'Saving…' : view ? 'Save changes' : 'Save view'}
            </button>
          </div>
        </form>
      )}
    </dialog>
  );
}
