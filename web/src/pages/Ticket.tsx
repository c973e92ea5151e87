import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { Link, useParams } from 'react-router';
import { api, dataOf } from '../api/client';
import { requiredFields } from '../api/fields';
import { ApiError } from '../api/http';
import { useCan } from '../api/session';
import type { Project, Ticket } from '../api/types';
import { DelayBadge, PriorityBadge, StatusBadge } from '../components/Badges';
import { useProjects } from '../components/Filters';
import { ForecastPanel } from '../components/Forecast';
import { useGatedMove } from '../components/GateDialog';
import { ErrorState, Loading } from '../components/States';
import { Judgements } from '../components/Judgements';
import { useNow } from '../components/Time';
import { formatDuration, formatExact, statusLabel } from '../lib/format';
import { allowedTargets } from '../lib/workflow';
import { useLive } from '../live/events';
import { CustomFields } from './ticket/CustomFields';
import { Fields } from './ticket/Fields';
import { History } from './ticket/History';
import { OpsPanel } from './ticket/OpsPanel';
import { Timeline } from './ticket/Timeline';
import { Watchers } from './ticket/Watchers';

export function useTicket(id: string) {
  return useQuery({ queryKey: ['ticket', id], queryFn: () => dataOf(api.GET('/api/tickets/{id}', { params: { path: { id } } })) });
}

export function useTimeline(id: string) {
  return useQuery({
    queryKey: ['timeline', id],
    queryFn: () => dataOf(api.GET('/api/tickets/{id}/timeline', { params: { path: { id } } })),
  });
}

export function useProjectOf(ticket: Ticket | undefined, enabled: boolean): Project | undefined {
  const projects = useProjects(enabled);
  return projects.data?.find((project) => project.key === ticket?.project || project.name === ticket?.project);
}

export default function TicketPage() {
  const { id = '' } = useParams();
  const ticket = useTicket(id);
  const internal = useCan('monitor:read');
  const mayMove = useCan('ticket:transition');
  const mayEdit = useCan('ticket:update');
  const mayComment = useCan('ticket:comment');
  const maySend = useCan('ops:send');
  const mayReadOps = useCan('ops:read');
  const project = useProjectOf(ticket.data, internal);
  const timeline = useTimeline(id);
  const { changed } = useLive();

  if (ticket.isPending) return <Loading />;
  if (ticket.isError) {
    if (ticket.error instanceof ApiError && ticket.error.status === 404) {
      return (
        <section>
          <h1>Ticket not found</h1>
          <p>
            There is no ticket {id} that you can see. <Link to="/tickets">Back to tickets</Link>
          </p>
        </section>
      );
    }
    return <ErrorState error={ticket.error} retry={() => void ticket.refetch()} />;
  }
  const t = ticket.data;
  return (
    <article aria-labelledby="ticket-title" className={changed.has(t.id) ? 'flash-soft' : undefined}>
      <nav aria-label="Breadcrumb" className="muted small">
        <Link to="/tickets">Tickets</Link> / #{t.number}
      </nav>
      <header className="ticket-head">
        <h1 id="ticket-title">
          <span className="muted">#{t.number}</span> {t.subject ?? t.customer_name}
        </h1>
        <div className="badges">
          <StatusBadge status={t.status} />
          <PriorityBadge priority={t.priority} />
          <DelayBadge state={t.delay_state ?? undefined} />
        </div>
      </header>
      <StagePanel ticket={t} canMove={mayMove} />
      <div className="ticket-grid">
        <div className="stack">
          <section className="card" aria-labelledby="timeline-title">
            <h2 id="timeline-title">Stage timeline</h2>
            {timeline.isPending ? (
              <Loading />
            ) : timeline.isError ? (
              <ErrorState error={timeline.error} retry={() => void timeline.refetch()} />
            ) : (
              <Timeline timeline={timeline.data} />
            )}
          </section>
          <section className="card" aria-labelledby="history-title">
            <h2 id="history-title">History and comments</h2>
            <History ticketId={t.id} internal={internal} canComment={mayComment} />
          </section>
        </div>
        <div className="stack">
          <section className="card" aria-labelledby="fields-title">
            <h2 id="fields-title">Details</h2>
            <Fields ticket={t} editable={mayEdit} internal={internal} />
          </section>
          <CustomFields ticket={t} project={project} editable={mayEdit} internal={internal} />
          <Watchers ticketId={t.id} />
          {internal && mayReadOps && <OpsPanel ticket={t} canSend={maySend} />}
        </div>
      </div>
    </article>
  );
}

/**
 * Where the ticket is, how long it has been there, both judgements (its stage's and the whole ticket's, each
 * labelled), and buttons to move it along allowed transitions.
 */
function StagePanel({ ticket, canMove }: { ticket: Ticket; canMove: boolean }) {
  const project = useProjectOf(ticket, canMove);
  const queryClient = useQueryClient();
  const gate = useGatedMove(() => setNote(''));
  const now = useNow();
  const [note, setNote] = useState('');
  const stage = ticket.stage ?? null;
  const since = ticket.stage_entered_at ?? null;
  const closed = ticket.status === 'closed';
  const move = useMutation({
    mutationFn: (to: string) =>
      api.POST('/api/tickets/{id}/transitions', { params: { path: { id: ticket.id } }, body: note ? { to, note } : { to } }),
    onSuccess: () => {
      setNote('');
      void queryClient.invalidateQueries();
    },
    // A gate asks for its fields in place; the dialog retries the move with them.
    onError: (error, to) =>
      gate.ask(error, {
        ticket,
        project: project?.id ?? ticket.project ?? '',
        to: { key: to, name: targets.find((target) => target.key === to)?.name ?? to },
        note: note || undefined,
      }),
  });
  const targets = allowedTargets(project, stage?.key ?? null);
  return (
    <section className="card stage-panel" aria-label="Stage">
      <p>
        {stage ? (
          <>
            {closed ? 'Closed, in ' : 'In '}
            <strong>{stage.name ?? stage.key}</strong>
            {since && (
              <>
                {' '}
                for <span title={`Since ${formatExact(since)}`}>{formatDuration(now - new Date(since).getTime())}</span>
              </>
            )}
          </>
        ) : closed ? (
          <span className="muted">{statusLabel(ticket.status)}; not in a workflow stage.</span>
        ) : (
          <span className="muted">Not in a workflow stage yet.</span>
        )}
      </p>
      {!closed && <Judgements ticket={ticket} stageName={stage ? (stage.name ?? stage.key) : null} className="inline" />}
      <ForecastPanel forecast={ticket.forecast} />
      {canMove && project && targets.length > 0 && (
        <div className="move">
          <label>
            Note <input value={note} onChange={(event) => setNote(event.target.value)} placeholder="optional" />
          </label>
          <span className="muted">Move to:</span>
          {targets.map((target) => (
            <button key={target.key} type="button" disabled={move.isPending} onClick={() => move.mutate(target.key)}>
              {target.name}
            </button>
          ))}
        </div>
      )}
      {move.isError && !requiredFields(move.error) && <ErrorState error={move.error} />}
      {gate.dialog}
    </section>
  );
}
