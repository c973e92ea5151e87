/**
 * npm run import -- <file.ndjson|file.csv> [--strict] [--format ndjson|csv]
 * Imports tickets with their stage visits into the configured database (DATABASE_URL, else DATA_DIR), with the
 * same rules as POST /api/import. Prints the report; exits 1 when the import was refused or rows were rejected.
 */
import fs from 'node:fs';
import { parseArgs } from 'node:util';
import { Registry } from 'prom-client';
import { systemClock } from '../src/clock.js';
import { loadConfig } from '../src/config.js';
import { openDatabase } from '../src/db/database.js';
import { systemActor } from '../src/modules/access/policy.js';
import { createServices } from '../src/services.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { strict: { type: 'boolean', default: false }, format: { type: 'string' } },
});
const file = positionals[0];
if (!file || positionals.length > 1) {
  console.error('usage: npm run import -- <file.ndjson|file.csv> [--strict] [--format ndjson|csv]');
  process.exit(2);
}
const format = values.format ?? (file.toLowerCase().endsWith('.csv') ? 'csv' : 'ndjson');
if (format !== 'csv' && format !== 'ndjson') {
  console.error('--format must be ndjson or csv');
  process.exit(2);
}
if (!fs.existsSync(file)) {
  console.error(`no such file: ${file}`);
  process.exit(2);
}

const config = loadConfig();
const database = await openDatabase(config.databaseUrl ? { databaseUrl: config.databaseUrl } : { dataDir: config.dataDir });
try {
  const service = createServices({ config, database, clock: systemClock, metrics: new Registry() }).imports;
  const report = await service.run(systemActor, fs.createReadStream(file), { format, strict: values.strict });
  for (const error of report.errors) console.log(`line ${error.line}: ${error.reason}`);
  if (report.rejected > report.errors.length) console.log(`… and ${report.rejected - report.errors.length} more rejected rows`);
  console.log(
    report.refused
      ? `refused: ${report.rejected} bad row(s) of ${report.rows}; nothing was imported (--strict)`
      : `${report.imported} imported, ${report.existing} already there, ${report.rejected} rejected, of ${report.rows} rows ` +
          `in ${report.seconds} s (${report.tickets_per_second} tickets/s)`,
  );
  process.exitCode = report.refused || report.rejected > 0 ? 1 : 0;
} finally {
  await database.close();
}
