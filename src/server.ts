import { buildApp } from './app.js';
import { ConfigError, loadConfig, type Config } from './config.js';
import { DatabaseUnavailableError, openDatabase, type Database } from './db/database.js';
import { DataDirInUseError } from './db/lock.js';
import { MigrationError } from './db/migrate.js';
import { announceSignIn } from './first-run.js';
import { demoUsers } from './modules/users/demo.js';

async function openConfiguredDatabase(config: Config): Promise<Database> {
  return config.databaseUrl
    ? openDatabase({
        databaseUrl: config.databaseUrl,
        poolSize: config.databasePoolSize,
        readUrls: config.databaseReadUrls,
        maxReadLagMs: config.databaseReadMaxLagMs,
      })
    : openDatabase({ dataDir: config.dataDir, minFreeBytes: config.dataDirMinFreeMb * 2 ** 20 });
}

const expectedErrors = [ConfigError, DataDirInUseError, DatabaseUnavailableError, MigrationError];

async function main(): Promise<void> {
  const demo = process.argv.includes('--demo');
  // The demo's admin is the first admin (unless ADMIN_EMAIL or ADMIN_PASSWORD say otherwise): no second admin.
  const demoAdmin = demo && !process.env.ADMIN_EMAIL && !process.env.ADMIN_PASSWORD;
  const config = loadConfig(
    demoAdmin ? { ...process.env, ADMIN_EMAIL: demoUsers[0].email, ADMIN_PASSWORD: demoUsers[0].password } : process.env,
  );
  const database = await openConfiguredDatabase(config);
  let app: Awaited<ReturnType<typeof buildApp>>;
  try {
    app = await buildApp({ config, database, backgroundJobs: true });
    if (demo) {
      const { loadDemoData } = await import('./demo.js');
      await loadDemoData(app);
    }
  } catch (error) {
    await database.close();
    throw error;
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

  try {
    await app.listen({ port: config.port, host: config.host });
  } catch (error) {
    await app.close();
    await database.close();
    if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      throw new ConfigError(`port ${config.port} on ${config.host} is already in use; stop the other server or set PORT`);
    }
    throw error;
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const url = `http://${config.host === '0.0.0.0' ? 'localhost' : config.host}:${port}`;
  app.log.info(
    { port, database: database.kind === 'pglite' ? `embedded PGlite in ${config.dataDir}` : 'PostgreSQL server (DATABASE_URL)' },
    `Stageline is listening on ${url} (dashboard at /app/, API docs at /docs)`,
  );
  announceSignIn(app, url, { demo });
}

main().catch((error: unknown) => {
  const expected = expectedErrors.some((type) => error instanceof type);
  console.error(`stageline: ${expected ? (error as Error).message : ((error as Error).stack ?? String(error))}`);
  process.exit(1);
});
