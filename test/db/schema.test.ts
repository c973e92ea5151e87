import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { sql } from 'kysely';
import ts from 'typescript';
import type { Database } from '../../src/db/database.js';
import { checkedEnums } from '../../src/db/enums.js';
import { freshDatabase } from '../helpers/database.js';

/**
 * `src/db/types.ts` against the live schema of a migrated database (issue 21): every table the `DB` interface names has
 * exactly the columns it lists, nullable where the type says `| null`; every other table is named below as read by raw
 * SQL only; every `as const` list of `src/db/enums.ts` equals its column's CHECK constraint. Measured against
 * kysely-codegen: this reads the hand-written file with the TypeScript compiler the project already has (no new
 * dependency, and the file keeps its comments and `ColumnType` write types), and runs in well under a second.
 */

/** Tables no Kysely query names: read and written by raw SQL in one module each. */
const untypedTables = new Set([
  'kysely_migration',
  'kysely_migration_lock',
  'forecast_models',
  'ticket_forecasts',
  'ticket_forecast_checks',
  'open_ticket_delta',
  'open_ticket_tally',
  'stage_duration_delta',
  'stage_duration_tally',
  'stage_duration_span',
  'stage_duration_spans',
  'stage_flow_delta',
]);

/** Columns only raw SQL reads (the stored search document: search conditions, migration 0010). */
const untypedColumns = new Set(['tickets.search_document']);

/** `nullable: null` for a generated column: null exactly when its inputs make it so, whatever types.ts says. */
type Column = { name: string; nullable: boolean | null };

/** The `DB` interface's tables and each table interface's columns, read from the source. */
function declaredTables(): Map<string, Column[]> {
  const file = path.resolve(import.meta.dirname, '../../src/db/types.ts');
  const source = ts.createSourceFile(file, fs.readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
  const interfaces = new Map<string, ts.InterfaceDeclaration>();
  source.forEachChild((node) => {
    if (ts.isInterfaceDeclaration(node)) interfaces.set(node.name.text, node);
  });
  const nullable = (type: ts.TypeNode | undefined): boolean => {
    if (!type) return false;
    if (ts.isTypeReferenceNode(type) && ['ColumnType', 'Generated'].includes(type.typeName.getText(source))) {
      return nullable(type.typeArguments?.[0]);
    }
    if (ts.isUnionTypeNode(type)) return type.types.some((member) => nullable(member));
    if (type.kind === ts.SyntaxKind.UnknownKeyword) return true;
    return ts.isLiteralTypeNode(type) && type.literal.kind === ts.SyntaxKind.NullKeyword;
  };
  const columnsOf = (name: string): Column[] =>
    interfaces
      .get(name)!
      .members.filter(ts.isPropertySignature)
      .map((member) => ({ name: member.name.getText(source), nullable: nullable(member.type) }));
  const tables = new Map<string, Column[]>();
  for (const member of interfaces.get('DB')!.members.filter(ts.isPropertySignature)) {
    tables.set(member.name.getText(source), columnsOf(member.type!.getText(source)));
  }
  return tables;
}

let database: Database;
before(async () => {
  database = await freshDatabase();
});
after(() => database.close());

test('src/db/types.ts lists every column of every typed table, with its nullability', async () => {
  const { rows } = await sql<{ table_name: string; column_name: string; nullable: boolean }>`
    select c.relname as table_name, a.attname as column_name, case when a.attgenerated = '' then not a.attnotnull end as nullable
    from pg_class c join pg_attribute a on a.attrelid = c.oid
    where c.relnamespace = current_schema()::regnamespace and c.relkind in ('r', 'p') and not c.relispartition
      and a.attnum > 0 and not a.attisdropped
    order by c.relname, a.attnum`.execute(database.db);
  const live = new Map<string, Column[]>();
  for (const row of rows.filter((row) => !untypedColumns.has(`${row.table_name}.${row.column_name}`)))
    live.set(row.table_name, [...(live.get(row.table_name) ?? []), { name: row.column_name, nullable: row.nullable }]);
  const declared = declaredTables();
  const differences: string[] = [];
  for (const [table, columns] of declared) {
    const actual = live.get(table);
    if (!actual) {
      differences.push(`${table}: declared, but no migration creates it`);
      continue;
    }
    for (const column of columns) {
      const found = actual.find((c) => c.name === column.name);
      if (!found) differences.push(`${table}.${column.name}: declared, but not in the schema`);
      else if (found.nullable !== null && found.nullable !== column.nullable) {
        differences.push(`${table}.${column.name}: ${column.nullable ? 'nullable' : 'not null'} in types.ts, not in the schema`);
      }
    }
    for (const column of actual) {
      if (!columns.some((c) => c.name === column.name)) differences.push(`${table}.${column.name}: in the schema, not in types.ts`);
    }
  }
  assert.deepEqual(differences, []);
  const unexplained = [...live.keys()].filter((table) => !declared.has(table) && !untypedTables.has(table));
  assert.deepEqual(unexplained, [], 'tables neither in types.ts nor named as raw-SQL only in this test');
  const gone = [...untypedTables].filter((table) => !live.has(table));
  assert.deepEqual(gone, [], 'tables named as raw-SQL only that no migration creates');
});

test('every enumeration in src/db/enums.ts equals its CHECK constraint', async () => {
  for (const { table, column, values } of checkedEnums) {
    const { rows } = await sql<{ definition: string }>`
      select pg_get_constraintdef(oid) as definition from pg_constraint
      where conrelid = ${table}::regclass and contype = 'c'`.execute(database.db);
    const check = rows.map((row) => row.definition).find((definition) => new RegExp(`\\(${column} = ANY \\(ARRAY\\[`).test(definition));
    assert.ok(check, `${table}.${column} has no CHECK constraint`);
    const allowed = [...check.matchAll(/'([^']*)'::text/g)].map((match) => match[1]);
    assert.deepEqual([...allowed].sort(), [...values].sort(), `${table}.${column}: enums.ts and the migrations differ`);
  }
});
