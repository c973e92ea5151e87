import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, dataOf } from '../../api/client';
import { useCan, useSession } from '../../api/session';
import { ErrorState } from '../../components/States';

/** Watch / Unwatch for the viewer, and who else gets mail about the ticket (agents and admins may remove them). */
export function Watchers({ ticketId }: { ticketId: string }) {
  const { me } = useSession();
  const queryClient = useQueryClient();
  const path = { id: ticketId };
  const queryKey = ['watchers', ticketId];
  const watchers = useQuery({ queryKey, queryFn: () => dataOf(api.GET('/api/tickets/{id}/watchers', { params: { path } })) });
  const change = useMutation({
    mutationFn: ({ method, userId }: { method: 'POST' | 'DELETE'; userId?: string }) =>
      dataOf(
        method === 'POST'
          ? api.POST('/api/tickets/{id}/watchers', { params: { path }, body: {} })
          : userId
            ? api.DELETE('/api/tickets/{id}/watchers/{userId}', { params: { path: { ...path, userId } } })
            : api.DELETE('/api/tickets/{id}/watchers', { params: { path } }),
      ),
    onSuccess: (list) => queryClient.setQueryData(queryKey, list),
  });
  const list = watchers.data ?? [];
  const watching = list.some((watcher) => watcher.userId === me?.id);
  const mayRemoveOthers = useCan('ticket:watchers');

  return (
    <section className="card" aria-labelledby="watchers-title">
      <div className="card-head">
        <h2 id="watchers-title">Watchers</h2>
        <button
          type="button"
          className={watching ? undefined : 'primary'}
          aria-pressed={watching}
          disabled={watchers.isPending || change.isPending}
          onClick={() => change.mutate({ method: watching ? 'DELETE' : 'POST' })}
        >
          {watching ? 'Unwatch' : 'Watch'}
        </button>
      </div>
      {watchers.isError ? (
        <ErrorState error={watchers.error} retry={() => void watchers.refetch()} />
      ) : list.length === 0 ? (
        <p className="muted small">{watchers.isPending ? 'Loading…' : 'Nobody watches this ticket. Watchers get mail when it changes.'}</p>
      ) : (
        <ul className="watchers" aria-label="Watching this ticket">
          {list.map((watcher) => (
            <li key={watcher.userId}>
              <span>
                {watcher.name}
                {watcher.userId === me?.id && <span className="muted"> (you)</span>} <span className="muted small">{watcher.email}</span>
              </span>
              {mayRemoveOthers && watcher.userId !== me?.id && (
                <button
                  type="button"
                  className="icon"
                  aria-label={`Remove watcher ${watcher.name}`}
                  disabled={change.isPending}
                  onClick={() => change.mutate({ method: 'DELETE', userId: watcher.userId })}
                >
                  ✕
                </button>
              )}
            </li>
          ))}
        </ul>
      )}
      {change.isError && <ErrorState error={change.error} />}
    </section>
  );
}
