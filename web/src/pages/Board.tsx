import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useVirtualizer } from '@tanstack/react-virtual';
import { memo, useCallback, useEffect, useMemo, useRef, useState, type DragEvent, type KeyboardEvent } from 'react';
import { Link, useNavigate } from 'react-router';
import { api, dataOf } from '../api/client';
import { activeFields, fieldsOf, useFieldDefinitions, type FieldDefinition } from '../api/fields';
import { useCan } from '../api/session';
import type { BoardCard, BoardData, Project, StageDefinition } from '../api/types';
import { DelayBadge, PriorityBadge } from '../components/Badges';
import { FieldValue } from '../components/FieldControl';
import { useGatedMove } from '../components/GateDialog';
import { Judgements } from '../components/Judgements';
import { ProjectSelect, useProjects } from '../components/Filters';
import { ForecastLine } from '../components/Forecast';
import { Empty, ErrorState, Loading } from '../components/States';
import { useNow } from '../components/Time';
import { formatDuration, formatExact, formatTarget, plural } from '../lib/format';
import { useUrlState } from '../lib/useFilters';
import { activeStages, allowedTargets } from '../lib/workflow';
import { useLive } from '../live/events';
import { SubscribeButton } from './tickets/SubscribeButton';
import { useView } from './tickets/views';

const noStage = '';
type Ticket = BoardCard;

export default function Board() {
  const [filters, set] = useUrlState(['project', 'view'] as const);
  const projects = useProjects();
  const project = projects.data?.find((candidate) => candidate.key === filters.project) ?? projects.data?.[0];
  const view = useView(filters.view);

  return (
    <section aria-labelledby="board-title" className="board-page">
      <div className="page-head">
        <h1 id="board-title">Board</h1>
        <div className="filters inline">
          <ProjectSelect value={project?.key ?? ''} onChange={(key) => set({ project: key })} allowAll={false} />
        </div>
      </div>
      {filters.view && (
        <div className="view-bar" role="status">
          {view.isError ? (
            <span className="text-bad">This view cannot be applied: {view.error.message}</span>
          ) : (
            <span>
              View <strong>{view.data?.name ?? '…'}</strong> {view.data?.query && <code>{view.data.query}</code>}
            </span>
          )}
          <span className="actions">
            {view.data && <SubscribeButton viewId={view.data.id} />}
            <Link to={project ? `/board?project=${encodeURIComponent(project.key)}` : '/board'}>Show the whole board</Link>
          </span>
        </div>
      )}
      {projects.isPending ? (
        <Loading />
      ) : projects.isError ? (
        <ErrorState error={projects.error} retry={() => void projects.refetch()} />
      ) : !project ? (
        <Empty>No projects yet. An admin can create one with its workflow under Admin → Projects.</Empty>
      ) : (
        <ProjectBoard project={project} view={filters.view || undefined} />
      )}
    </section>
  );
}

/** The board of one project; with a saved view, only its cards (the server applies the view's query). */
function ProjectBoard({ project, view }: { project: Project; view?: string }) {
  const canMove = useCan('ticket:transition');
  const queryClient = useQueryClient();
  const queryKey = ['board', project.key, view ?? ''];
  const board = useQuery({
    queryKey,
    queryFn: () =>
      dataOf(api.GET('/api/board', { params: { query: { project: project.key, forecast: true, ...(view ? { view } : {}) } } })),
  });
  const [dragging, setDragging] = useState<Ticket | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  // After a keyboard move the moved card takes the focus back in its new column, and the move is announced.
  // (The card is focused only once it shows in the column it moved to.)
  const [focusTarget, setFocusTarget] = useState<{ id: string; stage: string } | null>(null);
  const [announcement, setAnnouncement] = useState('');
  const clearFocus = useCallback(() => setFocusTarget(null), []);
  const focusIn = (key: string) => (focusTarget?.stage === key ? focusTarget.id : null);
  // Columns the viewer folded or unfolded; by default a column is folded while it has no tickets.
  const [folded, setFolded] = useState<Record<string, boolean>>({});
  const boardRef = useRef<HTMLDivElement>(null);
  const stages = activeStages(project);
  const definitions = useFieldDefinitions(project.id);
  const cardFields = useMemo(() => activeFields(definitions.data).filter((definition) => definition.show_on_card), [definitions.data]);
  const gate = useGatedMove();

  const columns = useMemo(() => {
    const byStage = new Map<string, Ticket[]>(stages.map((stage) => [stage.key, []]));
    byStage.set(noStage, []);
    for (const ticket of board.data?.cards ?? []) {
      const key = ticket.stage?.key ?? noStage;
      (byStage.get(key) ?? byStage.get(noStage)!).push(ticket);
    }
    return byStage;
  }, [board.data, stages]);

  const move = useMutation({
    mutationFn: ({ ticket, to }: { ticket: Ticket; to: StageDefinition }) =>
      api.POST('/api/tickets/{id}/transitions', { params: { path: { id: ticket.id } }, body: { to: to.key } }),
    // Move the card at once; the server's answer (or the live stream) confirms or puts it back.
    onMutate: async ({ ticket, to }) => {
      await queryClient.cancelQueries({ queryKey });
      const before = queryClient.getQueryData<BoardData>(queryKey);
      queryClient.setQueryData<BoardData>(
        queryKey,
        (current) =>
          current && {
            ...current,
            cards: current.cards.map((card) =>
              card.id === ticket.id
                ? {
                    ...card,
                    stage: { key: to.key, name: to.name, started_at: new Date().toISOString(), due_at: null },
                    stage_state: null,
                    stage_due_at: null,
                    stage_overdue_by: null,
                    delay_state: card.ticket_state ?? ('on_track' as const),
                  }
                : card,
            ),
          },
      );
      return { before };
    },
    onError: (error, { ticket, to }, context) => {
      queryClient.setQueryData(queryKey, context?.before);
      // A stage gate: ask for its fields in place (the dialog retries the move), rather than report a failure.
      if (gate.ask(error, { ticket, project: project.id, to })) {
        setProblem(null);
        setAnnouncement(`#${ticket.number} needs fields filled in before it can move to ${to.name}.`);
      } else {
        setProblem(`Could not move #${ticket.number} to ${to.name}: ${error.message}`);
        setAnnouncement(`#${ticket.number} was not moved: ${error.message}`);
      }
    },
    onSuccess: (_answer, { ticket, to }) => {
      setProblem(null);
      setAnnouncement(`Moved #${ticket.number} to ${to.name}.`);
    },
    onSettled: () => void queryClient.invalidateQueries({ queryKey }),
  });

  const targetsFor = (ticket: Ticket) => allowedTargets(project, ticket.stage?.key ?? null);
  const moveTo = (ticket: Ticket, to: StageDefinition, byKeyboard = false) => {
    if (!targetsFor(ticket).some((target) => target.key === to.key)) {
      const why = `#${ticket.number} cannot move from ${ticket.stage?.name ?? 'no stage'} to ${to.name} in this workflow.`;
      setProblem(why);
      setAnnouncement(why);
      return;
    }
    if (byKeyboard) setFocusTarget({ id: ticket.id, stage: to.key });
    setAnnouncement(`Moving #${ticket.number} to ${to.name}…`);
    move.mutate({ ticket, to });
  };
  const isFolded = (key: string, count: number) => folded[key] ?? count === 0;
  // While a card is dragged near the board's left or right edge, the board scrolls that way.
  const scrollWhileDragging = (event: DragEvent) => {
    const board = boardRef.current;
    if (!board || !dragging) return;
    const { left, right } = board.getBoundingClientRect();
    const edge = 80;
    if (event.clientX < left + edge) board.scrollLeft -= 24;
    else if (event.clientX > right - edge) board.scrollLeft += 24;
  };
  const allowed = dragging ? new Set(targetsFor(dragging).map((stage) => stage.key)) : null;

  if (board.isPending) return <Loading label="Loading the board…" />;
  if (board.isError) return <ErrorState error={board.error} retry={() => void board.refetch()} />;
  const count = board.data.cards.length;
  const unplaced = columns.get(noStage) ?? [];
  const emptyCount = stages.filter((stage) => (columns.get(stage.key) ?? []).length === 0).length;
  return (
    <>
      <p className="sr-only" aria-live="polite" role="status">
        {announcement}
      </p>
      <p className="muted small">
        {plural(count, 'open ticket')}
        {view ? ' in this view' : ''}
        {board.data.truncated ? ` (the ${count} most urgent)` : ''}.
        {count > 0 &&
          !board.data.cards.some((card) => card.forecast) &&
          ' No delivery forecasts yet: a stage needs 30 ended visits in this project before its tickets get one.'}
        {canMove && ' Drag a card to another column, or focus it and press Shift+→ / Shift+← to move it along the workflow.'}
        {emptyCount > 0 && ` Empty stages are folded (${emptyCount}); open one with its ▸ button.`}
      </p>
      {problem && (
        <p className="form-error" role="alert">
          {problem}{' '}
          <button type="button" className="link" onClick={() => setProblem(null)}>
            Dismiss
          </button>
        </p>
      )}
      <div
        ref={boardRef}
        className={`board${stages.length > 6 ? ' compact' : ''}`}
        role="list"
        aria-label={`${project.name} workflow`}
        onDragOver={scrollWhileDragging}
      >
        {unplaced.length > 0 && (
          <Column
            title="Not in a stage"
            tickets={unplaced}
            canMove={canMove}
            cardFields={cardFields}
            folded={isFolded(noStage, unplaced.length)}
            onFold={(value) => setFolded((current) => ({ ...current, [noStage]: value }))}
            focusId={focusIn(noStage)}
            onFocused={clearFocus}
            onDrag={setDragging}
            onKeyMove={() => undefined}
          />
        )}
        {stages.map((stage, index) => (
          <Column
            key={stage.key}
            stage={stage}
            title={stage.name}
            minor={stage.stage_type === 'minor' || Boolean(stage.parent)}
            tickets={columns.get(stage.key) ?? []}
            canMove={canMove}
            cardFields={cardFields}
            folded={
              isFolded(stage.key, (columns.get(stage.key) ?? []).length) &&
              !(columns.get(stage.key) ?? []).some((t) => t.id === focusIn(stage.key))
            }
            onFold={(value) => setFolded((current) => ({ ...current, [stage.key]: value }))}
            focusId={focusIn(stage.key)}
            onFocused={clearFocus}
            dropState={allowed ? (allowed.has(stage.key) ? 'allowed' : 'blocked') : undefined}
            onDrag={setDragging}
            onDrop={(ticket) => moveTo(ticket, stage)}
            onKeyMove={(ticket, direction) => {
              const targets = targetsFor(ticket).map((target) => stages.indexOf(target));
              const next =
                direction > 0
                  ? targets.filter((i) => i > index).sort((a, b) => a - b)[0]
                  : targets.filter((i) => i < index).sort((a, b) => b - a)[0];
              if (next === undefined) {
                const why = `#${ticket.number} has no allowed stage ${direction > 0 ? 'after' : 'before'} ${stage.name}.`;
                setProblem(why);
                setAnnouncement(why);
              } else moveTo(ticket, stages[next], true);
            }}
          />
        ))}
      </div>
      {gate.dialog}
    </>
  );
}

type ColumnProps = {
  title: string;
  stage?: StageDefinition;
  minor?: boolean;
  tickets: Ticket[];
  canMove: boolean;
  /** The project's fields marked to show on cards. */
  cardFields: FieldDefinition[];
  folded: boolean;
  onFold(folded: boolean): void;
  focusId: string | null;
  onFocused(): void;
  dropState?: 'allowed' | 'blocked';
  onDrag(ticket: Ticket | null): void;
  onDrop?(ticket: Ticket): void;
  onKeyMove(ticket: Ticket, direction: 1 | -1): void;
};

/** One stage's column; only the cards in view are in the DOM, so thousands stay smooth. */
function Column({
  title,
  stage,
  minor,
  tickets,
  canMove,
  cardFields,
  folded,
  onFold,
  focusId,
  onFocused,
  dropState,
  onDrag,
  onDrop,
  onKeyMove,
}: ColumnProps) {
  const scroller = useRef<HTMLDivElement>(null);
  const [over, setOver] = useState(false);
  const virtualizer = useVirtualizer({
    count: tickets.length,
    getScrollElement: () => scroller.current,
    estimateSize: () => 112,
    overscan: 6,
  });
  // The card to focus after a keyboard move: scrolled into the rendered window first.
  const focusIndex = focusId ? tickets.findIndex((ticket) => ticket.id === focusId) : -1;
  useEffect(() => {
    if (focusIndex >= 0) virtualizer.scrollToIndex(focusIndex, { align: 'auto' });
  }, [focusIndex, virtualizer]);
  const overdue = tickets.filter((ticket) => ticket.delay_state === 'overdue').length;
  const atRisk = tickets.filter((ticket) => ticket.delay_state === 'at_risk').length;
  const id = `column-${stage?.key ?? 'none'}`;

  const onDragOver = (event: DragEvent) => {
    if (!onDrop || dropState !== 'allowed') return;
    event.preventDefault();
    event.dataTransfer.dropEffect = 'move';
    setOver(true);
  };
  const drop = (event: DragEvent) => {
    event.preventDefault();
    setOver(false);
    const ticket = JSON.parse(event.dataTransfer.getData('application/x-stageline-ticket') || 'null') as Ticket | null;
    if (ticket && onDrop) onDrop(ticket);
  };

  return (
    <div
      role="listitem"
      className={`column ${minor ? 'minor' : ''} ${folded ? 'folded' : ''} ${dropState ?? ''} ${over ? 'over' : ''}`}
      aria-labelledby={id}
      data-stage={stage?.key ?? ''}
      onDragOver={onDragOver}
      onDragLeave={() => setOver(false)}
      onDrop={drop}
    >
      <header className="column-head">
        <button
          type="button"
          className="icon fold"
          aria-expanded={!folded}
          aria-label={`${folded ? 'Unfold' : 'Fold'} ${title}`}
          title={folded ? 'Show this column' : 'Fold this column'}
          onClick={() => onFold(!folded)}
        >
          <span aria-hidden="true">{folded ? '▸' : '▾'}</span>
        </button>
        <h2 id={id}>
          {minor && <span aria-hidden="true">↳ </span>}
          {title}
        </h2>
        <span className="count" aria-label={plural(tickets.length, 'ticket')}>
          {tickets.length}
        </span>
        {!folded && stage?.target_minutes && <span className="muted small">target {formatTarget(stage.target_minutes)}</span>}
        {!folded && (overdue > 0 || atRisk > 0) && (
          <span className="small">
            {overdue > 0 && <span className="text-bad">■ {overdue} overdue </span>}
            {atRisk > 0 && <span className="text-warn">▲ {atRisk} at risk</span>}
          </span>
        )}
        {!folded && dropState === 'blocked' && <span className="small muted">not allowed from here</span>}
      </header>
      <div ref={scroller} className="column-body" tabIndex={-1} hidden={folded}>
        {tickets.length === 0 ? (
          <p className="muted small empty-column">No tickets</p>
        ) : (
          <ul style={{ height: virtualizer.getTotalSize(), position: 'relative' }} aria-label={`Tickets in ${title}`}>
            {virtualizer.getVirtualItems().map((item) => (
              <li
                key={tickets[item.index].id}
                data-index={item.index}
                ref={virtualizer.measureElement}
                style={{ position: 'absolute', top: 0, left: 0, right: 0, transform: `translateY(${item.start}px)` }}
              >
                <Card
                  ticket={tickets[item.index]}
                  canMove={canMove}
                  cardFields={cardFields}
                  focus={tickets[item.index].id === focusId}
                  onFocused={onFocused}
                  onDrag={onDrag}
                  onKeyMove={onKeyMove}
                />
              </li>
            ))}
          </ul>
        )}
      </div>
    </div>
  );
}

const Card = memo(function Card({
  ticket,
  canMove,
  cardFields,
  focus,
  onFocused,
  onDrag,
  onKeyMove,
}: {
  ticket: Ticket;
  canMove: boolean;
  cardFields: FieldDefinition[];
  focus: boolean;
  onFocused(): void;
  onDrag(ticket: Ticket | null): void;
  onKeyMove(ticket: Ticket, direction: 1 | -1): void;
}) {
  const now = useNow();
  const navigate = useNavigate();
  const { changed } = useLive();
  const [flash, setFlash] = useState(false);
  const isChanged = changed.has(ticket.id);
  useEffect(() => setFlash(isChanged), [isChanged]);
  const self = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (!focus || !self.current) return;
    self.current.focus();
    onFocused();
  }, [focus, onFocused]);
  const since = ticket.stage?.started_at;
  const inStage = since ? formatDuration(now - new Date(since).getTime()) : null;
  const onKey = (event: KeyboardEvent) => {
    if (event.target !== event.currentTarget) return;
    if (event.key === 'Enter') void navigate(`/tickets/${encodeURIComponent(ticket.id)}`);
    if (canMove && event.shiftKey && (event.key === 'ArrowRight' || event.key === 'ArrowLeft')) {
      event.preventDefault();
      onKeyMove(ticket, event.key === 'ArrowRight' ? 1 : -1);
    }
  };
  return (
    <div
      ref={self}
      className={`ticket-card delay-${ticket.delay_state}${flash ? ' flash' : ''}`}
      draggable={canMove}
      tabIndex={0}
      data-ticket={ticket.id}
      aria-label={`Ticket ${ticket.number}: ${ticket.subject ?? ''}`}
      aria-describedby={`card-${ticket.id}-state`}
      onKeyDown={onKey}
      onDragStart={(event) => {
        event.dataTransfer.setData('application/x-stageline-ticket', JSON.stringify(ticket));
        event.dataTransfer.effectAllowed = 'move';
        onDrag(ticket);
      }}
      onDragEnd={() => onDrag(null)}
    >
      <div className="card-top">
        <Link to={`/tickets/${encodeURIComponent(ticket.id)}`} tabIndex={-1}>
          #{ticket.number}
        </Link>
        <PriorityBadge priority={ticket.priority} />
        {ticket.delay_state !== 'on_track' && <DelayBadge state={ticket.delay_state} />}
      </div>
      <div className="card-subject">{ticket.subject ?? ticket.customer_name}</div>
      <div className="card-meta small">
        <span>{ticket.customer_name ?? ticket.customer_email ?? 'no customer'}</span>
        {inStage && <span title={`In ${ticket.stage?.name} since ${formatExact(since!)}`}>In stage {inStage}</span>}
      </div>
      <div id={`card-${ticket.id}-state`} className="small">
        <Judgements ticket={ticket} stageName={ticket.stage?.name ?? null} compact />
      </div>
      {cardFields.length > 0 && <CardFields definitions={cardFields} values={fieldsOf(ticket)} />}
      {/* A card without a forecast shows nothing; the board says once when none has one. */}
      {ticket.forecast && <ForecastLine forecast={ticket.forecast} />}
    </div>
  );
});

/** The fields an admin chose to show on cards; unset ones are left out to keep cards short. */
function CardFields({ definitions, values }: { definitions: FieldDefinition[]; values: Record<string, unknown> }) {
  const shown = definitions.filter((definition) => values[definition.key] !== undefined && values[definition.key] !== null);
  if (shown.length === 0) return null;
  return (
    <dl className="card-fields small">
      {shown.map((definition) => (
        <div key={definition.key}>
          <dt>{definition.label}</dt>
          <dd>
            <FieldValue definition={definition} value={values[definition.key]} />
          </dd>
        </div>
      ))}
    </dl>
  );
}
