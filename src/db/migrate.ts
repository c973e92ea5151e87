import { Migrator, type Kysely, type Migration, type MigrationProvider } from 'kysely';
import { migrations } from './migrations/index.js';
import type { DB } from './types.js';

const provider: MigrationProvider = {
  getMigrations: async () => migrations as Record<string, Migration>,
};

export class MigrationError extends Error {}

/** Forward-only: every migration runs once, in name order, each in its own transaction. */
export async function migrateToLatest(db: Kysely<DB>): Promise<void> {
  const migrator = new Migrator({ db, provider });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === 'Error');
    throw new MigrationError(
      `migration ${failed?.migrationName ?? '(unknown)'} failed: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
}
