import { randomUUID } from 'node:crypto';
import type { Clock } from '../../clock.js';
import type { Db, Executor } from '../../db/database.js';
import type { SavedViewRow } from '../../db/types.js';
import { AppError, fail, notFound } from '../../errors.js';
import type { AuditLog } from '../audit/service.js';
import type { ServiceContext } from '../../service-context.js';
import { assertCan, assertCanChangeView, canSeeView, type Actor } from '../access/policy.js';
import { parseSearch } from '../search/parser.js';
import type { TicketsService } from '../tickets/service.js';
import { ViewsRepository } from './repository.js';
import type { ViewCreateBody, ViewPatchBody } from './schemas.js';

export class ViewsService {
  private readonly db: Db;
  private readonly clock: Clock;
  private readonly views = new ViewsRepository();

  constructor(
    context: ServiceContext,
    private readonly tickets: TicketsService,
    private readonly audit: AuditLog,
  ) {
    this.db = context.database.db;
    this.clock = context.clock;
  }

  /** A view's query is checked when saved, so applying it later only fails if a named value disappeared. */
  private checkQuery(actor: Actor, query: string | undefined): void {
    if (query !== undefined) parseSearch(query, { now: this.clock.now(), me: actor.id === null ? [] : [actor.id, actor.name] });
  }

  private checkSharing(actor: Actor, shared: boolean | undefined): void {
    if (shared) assertCan(actor, 'view:share');
  }

  private async findVisible(actor: Actor, id: string, db: Executor = this.db): Promise<SavedViewRow> {
    assertCan(actor, 'view:read');
    const view = await this.views.findById(db, id);
    if (!view || !canSeeView(actor, view)) notFound('view', id);
    return view;
  }

  list(actor: Actor, limit: number, cursor: string | undefined) {
    assertCan(actor, 'view:read');
    return this.views.listVisible(this.db, actor.id, limit, cursor);
  }

  /** `db`: where to read it (a list read from a replica applies the view it names from there too). */
  get(actor: Actor, id: string, db?: Executor): Promise<SavedViewRow> {
    return this.findVisible(actor, id, db);
  }

  async create(actor: Actor, body: ViewCreateBody): Promise<SavedViewRow> {
    assertCan(actor, 'view:write');
    if (actor.id === null) fail('FORBIDDEN', 'only a signed-in user may save views');
    this.checkSharing(actor, body.shared);
    this.checkQuery(actor, body.query);
    await this.tickets.checkFieldRefs(actor, body.sort, body.columns);
    const now = this.clock.now();
    return this.db.transaction().execute(async (tx) => {
      const view = await this.views.insert(tx, {
        id: randomUUID(),
        owner_id: actor.id!,
        name: body.name,
        query: body.query ?? '',
        sort: body.sort ?? null,
        columns: body.columns ?? [],
        layout: body.layout ?? 'list',
        shared: body.shared ?? false,
        created_at: now,
        updated_at: now,
      });
      await this.audit.record(tx, {
        actor,
        action: 'view.created',
        target: { type: 'view', id: view.id },
        details: { fields: Object.keys(body) },
      });
      return view;
    });
  }

  /** PUT replaces every field (absent ones go back to their defaults); PATCH changes the fields present. */
  async update(actor: Actor, id: string, body: ViewPatchBody, replace: boolean, expectedVersion?: number): Promise<SavedViewRow> {
    assertCan(actor, 'view:write');
    if (replace && body.name === undefined) {
      throw new AppError('VALIDATION_FAILED', 'name: is required to replace a view', [{ field: 'name', problem: 'is required' }]);
    }
    this.checkSharing(actor, body.shared);
    this.checkQuery(actor, body.query);
    await this.tickets.checkFieldRefs(actor, body.sort, body.columns);
    return this.db.transaction().execute(async (tx) => {
      const view = await this.views.lock(tx, id);
      if (!view || !canSeeView(actor, view)) notFound('view', id);
      assertCanChangeView(actor, view);
      const expected = expectedVersion ?? body.version;
      if (expected !== undefined && expected !== view.version) {
        throw new AppError('VERSION_MISMATCH', `view ${id} is at version ${view.version}, not ${expected}`);
      }
      const defaults = replace ? { query: '', sort: null, columns: [], layout: 'list' as const, shared: false } : {};
      const { version: _version, ...fields } = body;
      await this.audit.record(tx, { actor, action: 'view.updated', target: { type: 'view', id }, details: { fields: Object.keys(body) } });
      return this.views.update(tx, id, { ...defaults, ...fields, updated_at: this.clock.now() });
    });
  }

  async remove(actor: Actor, id: string): Promise<SavedViewRow> {
    return this.db.transaction().execute(async (tx) => {
      const view = await this.views.lock(tx, id);
      if (!view || !canSeeView(actor, view)) notFound('view', id);
      assertCanChangeView(actor, view);
      await this.views.delete(tx, id);
      await this.audit.record(tx, { actor, action: 'view.deleted', target: { type: 'view', id } });
      return view;
    });
  }

  /** How many tickets match the view now, as this actor sees them. */
  async count(actor: Actor, id: string): Promise<number> {
    await this.findVisible(actor, id);
    return this.tickets.count(actor, { view: id });
  }
}
