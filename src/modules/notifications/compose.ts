import type { TicketEventRow, TicketRow } from '../../db/types.js';
import { delayOf, type DelayMoments, type DelayState } from '../workflow/delay.js';
import { escapeHtml, htmlLink } from './html.js';
import type { MailableEvent } from './preferences.js';

/** One thing to tell readers of: one history event, or the several field changes one update wrote. */
export type Notice = {
  /** Names the notice for deduplication: the first history event's id. */
  key: string;
  type: MailableEvent;
  ticket: TicketRow;
  actorId: string | null;
  actorName: string;
  events: TicketEventRow[];
};

/** Staff read everything; customers and addresses without an account read public history only. */
export type Audience = 'staff' | 'public';

/** What a notice says, before it becomes a mail or a digest line. */
export type Message = { title: string; details: string[]; quote: string | null };

const longValue = 300;

function shown(value: unknown): string {
  if (value === null || value === undefined || value === '') return '(empty)';
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return text.length > longValue ? `${text.slice(0, longValue)}…` : text;
}

const dataOf = (event: TicketEventRow) => event.data as Record<string, unknown>;

export function ticketLabel(ticket: Pick<TicketRow, 'number' | 'subject'>): string {
  return `#${ticket.number} ${ticket.subject?.trim() || '(no subject)'}`;
}

/** The notice in words for this audience; null when nothing in it is for them (internal only). */
export function describe(notice: Notice, audience: Audience, youAreAssignee: boolean): Message | null {
  const events = audience === 'staff' ? notice.events : notice.events.filter((event) => event.visibility === 'public');
  if (events.length === 0) return null;
  const first = dataOf(events[0]);
  const by = notice.actorName ? ` by ${notice.actorName}` : '';
  const stage = shown(first.name ?? first.key);
  switch (notice.type) {
    case 'ticket.created':
      return { title: `New ticket${by}`, details: [`Priority ${shown(first.priority)}, status ${shown(first.status)}`], quote: null };
    case 'ticket.updated':
      return {
        title: `Updated${by}`,
        // A custom field (issue 25) is named by its label.
        details: events.map(
          (event) => `${shown(dataOf(event).label ?? dataOf(event).field)}: ${shown(dataOf(event).old)} → ${shown(dataOf(event).new)}`,
        ),
        quote: null,
      };
    case 'ticket.assigned':
      return {
        title: youAreAssignee ? `Assigned to you${by}` : `Assigned to ${shown(first.new)}${by}`,
        details: [`Before: ${shown(first.old)}`],
        quote: null,
      };
    case 'ticket.status_changed':
      return { title: `Status ${shown(first.old)} → ${shown(first.new)}${by}`, details: [], quote: null };
    case 'stage.entered':
      return { title: `Entered stage ${stage}`, details: first.due_at ? [`Due ${shown(first.due_at)}`] : [], quote: null };
    case 'stage.left':
      return { title: `Left stage ${stage}`, details: [], quote: null };
    case 'stage.at_risk':
      return { title: `Stage ${stage} is at risk`, details: [`Due ${shown(first.at)}`], quote: null };
    case 'stage.overdue':
      return { title: `Stage ${stage} is overdue`, details: [`Was due ${shown(first.at)}`], quote: null };
    case 'ticket.at_risk':
      return { title: "The ticket's target is close", details: [`Due ${shown(first.at)}`], quote: null };
    case 'ticket.overdue':
      return { title: "The ticket's target has passed", details: [`Was due ${shown(first.at)}`], quote: null };
    case 'ticket.breach_likely':
      return {
        title: 'The ticket is likely to miss its target',
        details: [
          `Breach probability ${shown(first.probability)} in stage ${stage}`,
          `Expected to finish ${shown(first.expected_finish_at)}`,
        ],
        quote: null,
      };
    case 'comment.added':
      return {
        title: `${events[0].visibility === 'internal' ? 'Internal comment' : 'Comment'}${by}`,
        details: [],
        quote: typeof first.body === 'string' ? first.body : shown(first.body),
      };
    case 'ops.sent':
      return { title: 'Handed to OPS', details: [], quote: null };
    case 'ops.failed':
      return { title: 'Handing the ticket to OPS failed', details: [`After ${shown(first.attempts)} attempts`], quote: shown(first.error) };
    case 'ops.status_changed':
      return {
        title: `OPS status ${shown(first.old)} → ${shown(first.new)}`,
        details: first.details ? [shown(first.details)] : [],
        quote: null,
      };
  }
}

/** "2 d 4 h", "3 h 5 m", "12 m": the larger two units, as the dashboard writes a duration. */
function spoken(seconds: number): string {
  const minutes = Math.max(0, Math.floor(seconds / 60));
  const [d, h, m] = [Math.floor(minutes / 1440), Math.floor((minutes % 1440) / 60), minutes % 60];
  if (d > 0) return h > 0 ? `${d} d ${h} h` : `${d} d`;
  if (h > 0) return m > 0 ? `${h} h ${m} m` : `${h} h`;
  return `${m} m`;
}

const stateWords: Record<DelayState, string> = { on_track: 'on track', at_risk: 'at risk', overdue: 'overdue' };

/**
 * Where the ticket stands, both judgements named (issue 20): its current stage's target and the whole ticket's, each
 * on its own line, so a mail never shows one lateness as the other. Nothing for a ticket without targets or closed.
 */
export function standing(ticket: DelayMoments, now: Date): string[] {
  const judged = delayOf(ticket, now);
  const line = (name: string, state: DelayState | null, dueAt: string | null, overdueBy: number | null) => {
    if (state === null || dueAt === null) return [];
    if (state === 'overdue') return [`${name}: overdue by ${spoken(overdueBy ?? 0)} (was due ${dueAt})`];
    return [`${name}: ${stateWords[state]}, due in ${spoken((Date.parse(dueAt) - now.getTime()) / 1000)} (${dueAt})`];
  };
  return [
    ...line('Stage target', judged.stage_state, judged.stage_due_at, judged.stage_overdue_by),
    ...line('Ticket target', judged.ticket_state, judged.ticket_due_at, judged.ticket_overdue_by),
  ];
}

export function subjectOf(ticket: Pick<TicketRow, 'number' | 'subject'>, message: Message): string {
  return `[Stageline ${ticketLabel(ticket).slice(0, 120)}] ${message.title}`;
}

export function textOf(ticketText: string, message: Message, ticketUrl: string): string {
  const quote = message.quote === null ? [] : ['', ...message.quote.split('\n').map((line) => `> ${line}`)];
  return [ticketText, '', message.title, ...message.details.map((line) => `  ${line}`), ...quote, '', `Open the ticket: ${ticketUrl}`].join(
    '\n',
  );
}

export function htmlOf(ticketText: string, message: Message, ticketUrl: string): string {
  const details = message.details.length ? `<ul>${message.details.map((line) => `<li>${escapeHtml(line)}</li>`).join('')}</ul>` : '';
  const quote =
    message.quote === null
      ? ''
      : `<blockquote style="border-left: 3px solid #ccc; margin: 0; padding-left: 1em; white-space: pre-wrap">${escapeHtml(message.quote)}</blockquote>`;
  return (
    `<p style="color: #666">${escapeHtml(ticketText)}</p><h2 style="font-size: 16px">${escapeHtml(message.title)}</h2>` +
    `${details}${quote}<p>${htmlLink(ticketUrl, 'Open the ticket')}</p>`
  );
}
