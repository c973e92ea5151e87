import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Clock } from '../../clock.js';
import type { Executor } from '../../db/database.js';
import { fail } from '../../errors.js';
import { Envelope, ErrorBody, ok } from '../../http/envelope.js';
import { assertCan, type Actor } from '../access/policy.js';
import { delayOf, type DelayMoments } from '../workflow/delay.js';
import { resolveSearch } from '../search/resolve.js';
import { boardRows, findProject, storedForecasts } from './board-repository.js';
import { Board, BoardQuery, type BoardCardOut, type BoardQueryType } from './board-schemas.js';

/** A card's judgements; the board lists open tickets only, so its `delay_state` is never null. */
function cardJudgements(row: DelayMoments, now: Date) {
  const judged = delayOf(row, now);
  return { ...judged, delay_state: judged.delay_state ?? ('on_track' as const) };
}

export async function loadBoard(db: Executor, clock: Clock, actor: Actor, query: BoardQueryType) {
  assertCan(actor, 'monitor:read');
  const project = (await findProject(db, query.project)) ?? fail('NOT_FOUND', `project ${query.project} does not exist`);
  const now = clock.now();
  const limit = query.limit ?? 5000;
  const search = query.q || query.view ? (await resolveSearch(db, actor, now, { q: query.q, view: query.view })).filters : [];
  const rows = await boardRows(db, project.id, now, limit, search);
  const cards: BoardCardOut[] = rows.slice(0, limit).map((row) => ({
    id: row.id,
    number: row.number,
    subject: row.subject,
    customer_name: row.customer_name,
    customer_email: row.customer_email,
    assigned_to: row.assigned_to,
    priority: row.priority,
    status: row.status,
    version: row.version,
    stage:
      row.stage_key === null || row.stage_name === null
        ? null
        : {
            key: row.stage_key,
            name: row.stage_name,
            started_at: row.stage_start_time ? row.stage_start_time.toISOString() : null,
            due_at: row.due_at ? row.due_at.toISOString() : null,
          },
    ...cardJudgements(row, now),
  }));
  if (query.forecast) {
    const stored = new Map(
      (
        await storedForecasts(
          db,
          cards.map((card) => card.id),
        )
      ).map((row) => [row.ticket_id, row]),
    );
    for (const card of cards) {
      const row = stored.get(card.id);
      card.forecast = row
        ? {
            stage_breach_probability: row.stage_probability,
            ticket_breach_probability: row.ticket_probability,
            expected_finish_at: row.expected_finish_at ? row.expected_finish_at.toISOString() : null,
            forecast_at: row.computed_at.toISOString(),
          }
        : null;
    }
  }
  return { project, now: now.toISOString(), cards, truncated: rows.length > limit };
}

/** `GET /api/board`: the dashboard's board in one request (a column per stage needs each ticket's stage). */
export const boardRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/board',
    {
      config: { access: 'monitor:read' },
      schema: {
        tags: ['monitor'],
        summary: "A project's open tickets with the workflow stage each is in and its delay, for the board",
        querystring: BoardQuery,
        response: { 200: Envelope(Board), 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 404: ErrorBody },
      },
    },
    async (request) => ok(await loadBoard(app.database.db, app.clock, request.actor, request.query)),
  );
};
