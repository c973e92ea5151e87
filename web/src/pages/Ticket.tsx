import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { Link, useParams } from 'react-router';
import { api, dataOf } from '../api/client';
import { requiredFields } from '../api/fields';
import { ApiError } from '../api/http';
import { may, useSession } from '../api/session';
import type { Project, Ticket, Timeline as TimelineData } from '../api/types';
import { DelayBadge, PriorityBadge, StatusBadge } from '../components/Badges';
import { useProjects } from '../components/Filters';
import { ForecastPanel } from '../components/Forecast';
import { useGatedMove } from '../components/GateDialog';
import { ErrorState, Loading } from '../components/States';
import { Time, useNow } from '../components/Time';
import { formatDuration } from '../lib/time';
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
  const { me } = useSession();
  const ticket = useTicket(id);
  const project = useProjectOf(ticket.data, may.seeInternals(me?.role));
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
  const internal = may.seeInternals(me?.role);
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
          <DelayBadge state={timeline.data?.delay_state ?? undefined} />
        </div>
      </header>
      <StagePanel ticket={t} project={project} timeline={timeline.data} canMove={may.write(me?.role)} />
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
            <History ticketId={t.id} internal={internal} />
          </section>
        </div>
        <div className="stack">
          <section className="card" aria-labelledby="fields-title">
            <h2 id="fields-title">Details</h2>
            <Fields ticket={t} editable={may.write(me?.role)} internal={internal} />
          </section>
          <CustomFields ticket={t} project={project} editable={may.write(me?.role)} internal={internal} />
          <Watchers ticketId={t.id} />
          {internal && <OpsPanel ticket={t} canSend={may.write(me?.role)} />}
        </div>
      </div>
    </article>
  );
}

/** Where the ticket is, how long it has been there, and buttons to move it along allowed transitions. */
function StagePanel({
  ticket,
  project,
  timeline,
  canMove,
}: {
  ticket: Ticket;
  project: Project | undefined;
  timeline: TimelineData | undefined;
  canMove: boolean;
}) {
  const queryClient = useQueryClient();
  const gate = useGatedMove(() => setNote(''));
  const now = useNow();
  const [note, setNote] = useState('');
  const active = timeline?.visits.filter((visit) => visit.state === 'active') ?? [];
  // A minor stage opens its major too: the innermost active visit is where the ticket is.
  const current = active.find((visit) => visit.stage_type === 'minor') ?? active.at(-1);
  const stage = {
    key: current?.key ?? null,
    name: current?.name ?? null,
    since: current?.started_at ?? null,
    due: current?.due_at ?? null,
  };
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
  const targets = allowedTargets(project, stage.key);
  return (
    <section className="card stage-panel" aria-label="Stage">
      <p>
        {stage.name ? (
          <>
            In <strong>{stage.name}</strong>
            {stage.since && (
              <>
                {' '}
                for <span title={new Date(stage.since).toString()}>{formatDuration(now - new Date(stage.since).getTime())}</span>
              </>
            )}
            {stage.due && (
              <>
                {' '}
                · due <Time iso={stage.due} />
              </>
            )}
          </>
        ) : (
          <span className="muted">Not in a workflow stage yet.</span>
        )}
      </p>
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
