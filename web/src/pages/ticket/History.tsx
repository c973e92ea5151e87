import { useInfiniteQuery, useMutation, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { api, pageOf } from '../../api/client';
import type { HistoryEvent } from '../../api/types';
import { Empty, ErrorState, Loading } from '../../components/States';
import { Time } from '../../components/Time';
import { fieldLabel, fieldValue, humanize, statusLabel } from '../../lib/format';

const show = (value: unknown) => fieldValue('', value);

/** One line saying what an event was, in words. */
function describe(event: HistoryEvent): React.ReactNode {
  const d = event.data ?? {};
  const stage = String(d.name ?? d.stage_name ?? d.key ?? d.stage_key ?? d.to ?? '');
  switch (event.type) {
    case 'created':
      return 'opened the ticket';
    case 'field_changed':
      return (
        <>
          {/* A custom field's change carries its label (`field` is then `fields.<key>`). */}
          changed <strong>{d.label ? String(d.label) : fieldLabel(String(d.field))}</strong> from{' '}
          <q>{fieldValue(String(d.field), d.old)}</q> to <q>{fieldValue(String(d.field), d.new)}</q>
        </>
      );
    case 'status_changed':
      return (
        <>
          changed the status from <strong>{statusLabel(d.old as string)}</strong> to <strong>{statusLabel(d.new as string)}</strong>
        </>
      );
    case 'stage_entered':
      return (
        <>
          moved into <strong>{stage}</strong>
          {d.note ? <> — “{String(d.note)}”</> : null}
        </>
      );
    case 'stage_left':
      return (
        <>
          left <strong>{String(d.name ?? d.stage_name ?? d.key ?? d.from ?? '')}</strong>
        </>
      );
    case 'at_risk':
      return <span className="text-warn">▲ became at risk in {stage || 'its stage'}</span>;
    case 'overdue':
      return <span className="text-bad">■ became overdue in {stage || 'its stage'}</span>;
    case 'ops_sent':
      return <>sent the ticket to OPS {d.opsId || d.ops_id ? <code>{String(d.opsId ?? d.ops_id)}</code> : null}</>;
    case 'ops_failed':
      return <span className="text-bad">OPS hand-off failed: {show(d.error ?? d.reason)}</span>;
    case 'ops_status_changed':
      return (
        <>
          OPS changed the status from <strong>{statusLabel(d.old as string)}</strong> to <strong>{statusLabel(d.new as string)}</strong>
        </>
      );
    case 'notification_sent':
      return <>notified {show(d.to ?? d.recipient)}</>;
    default:
      return humanize(event.type).toLowerCase();
  }
}

export function History({ ticketId, internal, canComment }: { ticketId: string; internal: boolean; canComment: boolean }) {
  const path = { id: ticketId };
  const history = useInfiniteQuery({
    queryKey: ['history', ticketId],
    queryFn: ({ pageParam }) =>
      pageOf(api.GET('/api/tickets/{id}/history', { params: { path, query: { limit: 100, cursor: pageParam } } })),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.page.next_cursor ?? undefined,
  });
  const queryClient = useQueryClient();
  const [text, setText] = useState('');
  const [internalNote, setInternalNote] = useState(false);
  const comment = useMutation({
    mutationFn: () =>
      api.POST('/api/tickets/{id}/comments', {
        params: { path },
        body: { body: text, ...(internal ? { visibility: internalNote ? 'internal' : 'public' } : {}) },
      }),
    onSuccess: () => {
      setText('');
      void queryClient.invalidateQueries({ queryKey: ['history', ticketId] });
    },
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (text.trim()) comment.mutate();
  };
  const events = history.data?.pages.flatMap((page) => page.items) ?? [];

  return (
    <>
      {canComment && (
        <form onSubmit={submit} className="comment-form">
          <label htmlFor="comment">Add a comment</label>
          <textarea id="comment" rows={3} value={text} onChange={(event) => setText(event.target.value)} required />
          <div className="actions">
            {internal && (
              <label className="check">
                <input type="checkbox" checked={internalNote} onChange={(event) => setInternalNote(event.target.checked)} /> Internal
                (hidden from the customer)
              </label>
            )}
            <button type="submit" className="primary" disabled={comment.isPending || !text.trim()}>
              Comment
            </button>
          </div>
          {comment.isError && <ErrorState error={comment.error} />}
        </form>
      )}
      {history.isPending ? (
        <Loading />
      ) : history.isError ? (
        <ErrorState error={history.error} retry={() => void history.refetch()} />
      ) : events.length === 0 ? (
        <Empty>No history yet.</Empty>
      ) : (
        <ol className="history">
          {events.map((event) => (
            <li key={event.id} className={`event event-${event.type}${event.visibility === 'internal' ? ' internal' : ''}`}>
              <div className="event-head">
                <strong>{event.actor_name}</strong> {event.type === 'comment' ? 'commented' : describe(event)}
                {event.visibility === 'internal' && <span className="badge">internal</span>}
                <span className="muted small">
                  {' '}
                  · <Time iso={event.created_at} />
                </span>
              </div>
              {event.type === 'comment' && <p className="prewrap comment">{String(event.data.body ?? event.data.text ?? '')}</p>}
            </li>
          ))}
        </ol>
      )}
      {history.hasNextPage && (
        <button type="button" onClick={() => void history.fetchNextPage()} disabled={history.isFetchingNextPage}>
          Show more
        </button>
      )}
    </>
  );
}
