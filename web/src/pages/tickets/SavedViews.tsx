import { Link } from 'react-router';
import type { SavedView } from '../../api/types';
import { useViewCounts, useViews, viewPath } from './views';

function ViewLink({ view, count, active, onEdit }: { view: SavedView; count?: number; active: boolean; onEdit?(): void }) {
  return (
    <li className={active ? 'active' : undefined}>
      <Link to={viewPath(view)} aria-current={active ? 'page' : undefined}>
        <span className="view-name">{view.name}</span>
        {view.layout === 'board' && <span className="tag">board</span>}
        {view.shared && view.mine && <span className="tag">shared</span>}
        <span className="count" aria-label={count === undefined ? 'counting' : `${count} tickets`}>
          {count ?? '…'}
        </span>
      </Link>
      {onEdit && (
        <button type="button" className="icon" aria-label={`Edit view ${view.name}`} title="Edit or delete" onClick={onEdit}>
          ✎
        </button>
      )}
    </li>
  );
}

/** The saved views with how many tickets each matches now: mine first, then the shared ones. */
export function SavedViews({ activeId, onEdit }: { activeId: string; onEdit(view: SavedView): void }) {
  const views = useViews();
  const all = views.data ?? [];
  const counts = useViewCounts(all);
  const groups = [
    { title: 'My views', items: all.filter((view) => view.mine) },
    { title: 'Shared views', items: all.filter((view) => !view.mine) },
  ];
  return (
    <nav aria-label="Saved views" className="views-nav">
      <ul>
        <li className={activeId === '' ? 'active' : undefined}>
          <Link to="/tickets" aria-current={activeId === '' ? 'page' : undefined}>
            <span className="view-name">All tickets</span>
          </Link>
        </li>
      </ul>
      {views.isError && <p className="small text-bad">Could not load the saved views: {views.error.message}</p>}
      {groups.map((group) => (
        <section key={group.title} aria-label={group.title}>
          <h2>{group.title}</h2>
          {group.items.length === 0 ? (
            <p className="muted small">
              {views.isPending ? 'Loading…' : group.title === 'My views' ? 'Filter the list, then “Save as view”.' : 'None yet.'}
            </p>
          ) : (
            <ul>
              {group.items.map((view) => (
                <ViewLink
                  key={view.id}
                  view={view}
                  count={counts.get(view.id)}
                  active={view.id === activeId}
                  onEdit={view.changeable ? () => onEdit(view) : undefined}
                />
              ))}
            </ul>
          )}
        </section>
      ))}
    </nav>
  );
}
