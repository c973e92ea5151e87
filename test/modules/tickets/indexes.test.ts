import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { after, before, test } from 'node:test';
import type { Executor } from '../../../src/db/database.js';
import { StagesRepository, type StageFilters } from '../../../src/modules/stages/repository.js';
import type { FieldCondition } from '../../../src/modules/search/parser.js';
import { TicketsRepository, type TicketFilters } from '../../../src/modules/tickets/repository.js';
import { testApp, type TestApp } from '../../helpers/app.js';

// Every list filter must be answerable from an index (at a million tickets a scan is seconds, not ms).
let t: TestApp;
before(async () => {
  t = await testApp();
  // Custom fields (issue 25): defining number and date fields creates their expression indexes.
  assert.equal((await t.api.post('/api/projects', { key: 'IDX', name: 'Indexes', stages: [{ key: 'a', name: 'A' }] })).statusCode, 201);
  for (const field of [
    { key: 'impact', label: 'Impact', type: 'number' },
    { key: 'due', label: 'Due', type: 'date' },
  ]) {
    assert.equal((await t.api.post('/api/projects/IDX/fields', field)).statusCode, 201);
  }
});
after(() => t.close());

type Filtered = {
  filtered(db: Executor, filters: unknown): { selectAll(): { compile(): { sql: string; parameters: readonly unknown[] } } };
};

async function plan(compiled: { sql: string; parameters: readonly unknown[] }): Promise<string> {
  return t.database.db.transaction().execute(async (tx) => {
    // Tiny test tables make a sequential scan cheapest; forbid it to see which index the planner can use.
    await sql`set local enable_seqscan = off`.execute(tx);
    const rows = await sql.raw<{ 'QUERY PLAN': string }>(`explain ${inline(compiled)}`).execute(tx);
    return rows.rows.map((row) => row['QUERY PLAN']).join('\n');
  });
}

/** EXPLAIN cannot take bind parameters on every driver, so literals are inlined (test values only). */
function inline(compiled: { sql: string; parameters: readonly unknown[] }): string {
  return compiled.sql.replace(/\$(\d+)/g, (_, index: string) => {
    const value = compiled.parameters[Number(index) - 1];
    if (value instanceof Date) return `'${value.toISOString()}'::timestamptz`;
    if (typeof value === 'number') return String(value);
    return `'${String(value).replace(/'/g, "''")}'`;
  });
}

function fieldSearch(condition: FieldCondition): TicketFilters {
  return { search: { filters: [{ conditions: [condition], text: null }], now: new Date('2026-03-01T00:00:00Z') } };
}

const ticketFilters: [string, TicketFilters][] = [
  ['status', { statuses: ['open', 'pending'] }],
  ['priority', { priorities: ['high'] }],
  ['project', { project: 'billing' }],
  ['category', { category: 'hardware' }],
  ['customer', { customer: 'acme' }],
  ['assigned_to', { assignedTo: 'alice' }],
  ['current_stage_id', { currentStageId: 'stage-1' }],
  ['created range', { createdFrom: new Date('2026-01-01'), createdTo: new Date('2026-02-01') }],
  ['updated_since', { updatedSince: new Date('2026-01-01') }],
  ['customer restriction', { customerEmails: ['a@acme.example'] }],
  ['field equality', fieldSearch({ field: 'custom', key: 'severity', op: '=', values: ['high', '3'] })],
  ['field number range', fieldSearch({ field: 'custom', key: 'impact', op: '>', values: ['3'] })],
  ['field date range', fieldSearch({ field: 'custom', key: 'due', op: '<', values: ['2026-12-01'] })],
];

for (const [name, filters] of ticketFilters) {
  test(`tickets: ${name} uses an index`, async () => {
    const query = (new TicketsRepository() as unknown as Filtered).filtered(t.database.db, filters).selectAll().compile();
    const explained = await plan(query);
    assert.match(explained, /Index|Bitmap/, explained);
    assert.doesNotMatch(explained, /Seq Scan on tickets/, explained);
  });
}

const now = new Date('2026-03-01T00:00:00Z');
const stageFilters: [string, StageFilters][] = [
  ['stage_type', { stageType: 'minor', now }],
  ['major_stage_id', { majorStageId: 'x', now }],
  ['ticket_id', { ticketId: 'x', now }],
  ['started range', { startedFrom: now, startedTo: new Date('2026-04-01'), now }],
];

for (const [name, filters] of stageFilters) {
  test(`stages: ${name} uses an index`, async () => {
    const query = (new StagesRepository() as unknown as Filtered).filtered(t.database.db, filters).selectAll().compile();
    const explained = await plan(query);
    assert.match(explained, /Index|Bitmap/, explained);
    assert.doesNotMatch(explained, /Seq Scan on stages/, explained);
  });
}
