/**
 * Writes the OpenAPI document of every route to openapi.json (committed: the dashboard's client and
 * outside integrators read it). `--check` fails instead when the committed file is stale.
 */
import { PGlite } from '@electric-sql/pglite';
import fs from 'node:fs';
import path from 'node:path';
import { buildApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { openDatabase, pgliteOptions } from '../src/db/database.js';
import { dashboardShape } from '../src/modules/tickets/shape.js';

const file = path.resolve(import.meta.dirname, '../openapi.json');
/** The ticket field table's list columns and labels, for the dashboard (issue 21): no second list in web/. */
const shapeFile = path.resolve(import.meta.dirname, '../web/src/api/ticket-fields.json');
const shape = `${JSON.stringify(dashboardShape(), null, 2)}\n`;

// Defaults only (not this shell's environment), so every machine writes the same document.
const config = loadConfig({ LOG_LEVEL: 'silent' });
const database = await openDatabase({ pglite: await PGlite.create(pgliteOptions()) });
const app = await buildApp({ config, database, logger: false });
await app.ready();
const document = `${JSON.stringify(app.swagger(), null, 2)}\n`;
await app.close();
await database.close();

if (process.argv.includes('--check')) {
  const committed = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
  const committedShape = fs.existsSync(shapeFile) ? fs.readFileSync(shapeFile, 'utf8') : '';
  if (committed !== document || committedShape !== shape) {
    console.error('openapi.json or web/src/api/ticket-fields.json is stale: run `npm run openapi` and commit the result');
    process.exit(1);
  }
  console.log('openapi.json is up to date');
} else {
  fs.writeFileSync(file, document);
  fs.writeFileSync(shapeFile, shape);
  console.log(`wrote ${path.relative(process.cwd(), file)} and ${path.relative(process.cwd(), shapeFile)}`);
}
