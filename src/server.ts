import { buildApp } from './app.js';
import { ConfigError, loadConfig, type Config } from './config.js';
import { DatabaseUnavailableError, openDatabase, type Database } from './db/database.js';
import { DataDirInUseError } from './db/lock.js';
import { MigrationError } from './db/migrate.js';

async function openConfiguredDatabase(config: Config): Promise<Database> {
  return config.databaseUrl ? openDatabase({ databaseUrl: config.databaseUrl }) : openDatabase({ dataDir: config.dataDir });
}

const expectedErrors = [ConfigError, DataDirInUseError, DatabaseUnavailableError, MigrationError];

async function main(): Promise<void> {
  const config = loadConfig();
  const database = await openConfiguredDatabase(config);
  const app = await buildApp({ config, database, backgroundJobs: true });

  if (process.argv.includes('--demo')) {
    const { loadDemoData } = await import('./demo.js');
    await loadDemoData(app);
  }

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    app.log.info({ signal }, 'stopping: no new connections, finishing requests in flight');
    const force = setTimeout(() => app.server.closeAllConnections(), config.shutdownGraceSeconds * 1000);
    try {
      await app.close();
    } finally {
      clearTimeout(force);
      // The embedded database is closed last and always, so its data directory is left consistent.
      await database.close();
      app.log.info('stopped');
    }
  };
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));

  await app.listen({ port: config.port, host: config.host });
  app.log.info(
    { database: database.kind === 'pglite' ? `embedded PGlite in ${config.dataDir}` : 'PostgreSQL server (DATABASE_URL)' },
    `Stageline is listening on http://${config.host === '0.0.0.0' ? 'localhost' : config.host}:${config.port}`,
  );
}

main().catch((error: unknown) => {
  const expected = expectedErrors.some((type) => error instanceof type);
  console.error(`stageline: ${expected ? (error as Error).message : (error as Error).stack ?? String(error)}`);
  process.exit(1);
});
