import type { Clock } from '../../clock.js';
import type { ServiceContext } from '../../service-context.js';
import type { Database } from '../../db/database.js';
import { fail } from '../../errors.js';
import { assertCan, type Actor } from '../access/policy.js';
import { delayOf, type DelayMoments } from '../workflow/delay.js';
import type { FieldsService } from '../fields/service.js';
import type { FieldValue } from '../fields/values.js';
import { resolveSearch, type SavedViews } from '../search/resolve.js';
import { BoardRepository } from './repository.js';
import type { BoardCardOut, BoardQueryType } from './schemas.js';

/** A card's judgements; the board lists open tickets only, so its `delay_state` is never null. */
function cardJudgements(row: DelayMoments, now: Date) {
  const judged = delayOf(row, now);
  return { ...judged, delay_state: judged.delay_state ?? ('on_track' as const) };
}

/** The dashboard's board: a project's open tickets with the workflow stage each is in and its delay. */
export class BoardService {
  private readonly database: Database;
  private readonly clock: Clock;
  private readonly board = new BoardRepository();

  constructor(
    context: ServiceContext,
    private readonly fields: Pick<FieldsService, 'cardKeys'>,
    private readonly views: SavedViews,
  ) {
    this.database = context.database;
    this.clock = context.clock;
  }

  async load(actor: Actor, query: BoardQueryType) {
    assertCan(actor, 'monitor:read');
    const db = this.database.reader(actor);
    const project = (await this.board.findProject(db, query.project)) ?? fail('NOT_FOUND', `project ${query.project} does not exist`);
    const now = this.clock.now();
    const limit = query.limit ?? 5000;
    const search = query.q || query.view ? (await resolveSearch(db, actor, now, { q: query.q, view: query.view }, this.views)).filters : [];
    const rows = await this.board.boardRows(db, project.id, now, limit, search);
    // Custom fields (issue 25): a card shows the ones marked show_on_card.
    const cardKeys = await this.fields.cardKeys(db, project.id);
    const cardFields = (values: Record<string, unknown>) =>
      Object.fromEntries(cardKeys.filter((key) => key in values).map((key) => [key, values[key] as FieldValue]));
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
      fields: cardFields(row.fields),
    }));
    if (query.forecast) {
      const stored = new Map(
        (
          await this.board.storedForecasts(
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
}
