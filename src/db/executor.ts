import type { Kysely, Transaction } from 'kysely';
import type { DB } from './types.js';

// The connection types every repository takes, apart from database.ts so that its own helpers (copy.ts) can name
// them without an import cycle.
export type Db = Kysely<DB>;
export type Tx = Transaction<DB>;
/** Either the database or an open transaction: repositories accept both. */
export type Executor = Kysely<DB> | Transaction<DB>;

export type DatabaseKind = 'pglite' | 'postgres';
