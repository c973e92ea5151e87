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
import { eventDescriptions, eventTypes } from '../src/modules/dispatch/catalogue.js';
import { dashboardShape } from '../src/modules/tickets/shape.js';

const file = path.resolve(import.meta.dirname, '../openapi.json');
/** The ticket field table's list columns and labels, for the dashboard (issue 21): no second list in web/. */
const shapeFile = path.resolve(import.meta.dirname, '../web/src/api/ticket-fields.json');
/** The event catalogue (webhooks, mail preferences) in its order, for the dashboard: no second list in web/ either. */
const eventsFile = path.resolve(import.meta.dirname, '../web/src/api/event-types.json');
const generated = new Map([
  [shapeFile, `${JSON.stringify(dashboardShape(), null, 2)}\n`],
  [eventsFile, `${JSON.stringify({ events: eventTypes.map((type) => ({ type, description: eventDescriptions[type] })) }, null, 2)}\n`],
]);

// Defaults only (not this shell's environment), so every machine writes the same document.
const config = loadConfig({ LOG_LEVEL: 'silent' });
const database = await openDatabase({ pglite: await PGlite.create(pgliteOptions()) });
const app = await buildApp({ config, database, logger: false });
await app.ready();
const document = `${JSON.stringify(app.swagger(), null, 2)}\n`;
await app.close();
await database.close();
const names = [file, ...generated.keys()].map((name) => path.relative(process.cwd(), name)).join(', ');

if (process.argv.includes('--check')) {
  const committed = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
  const stale = [...generated].filter(([name, text]) => !fs.existsSync(name) || fs.readFileSync(name, 'utf8') !== text);
  if (committed !== document || stale.length > 0) {
    console.error(`${names}: stale, run \`npm run openapi\` and commit the result`);
    process.exit(1);
  }
  console.log('openapi.json is up to date');
} else {
  fs.writeFileSync(file, document);
  for (const [name, text] of generated) fs.writeFileSync(name, text);
  console.log(`wrote ${names}`);
}
