/**
 * Writes web/src/api/schema.d.ts, the TypeScript types of every route in openapi.json, so the dashboard's
 * typecheck (`npm run typecheck`) fails when its types no longer match the API contract. Not committed: it is
 * regenerated from the committed openapi.json before each typecheck.
 */
import fs from 'node:fs';
import path from 'node:path';
import openapiTS, { astToString } from 'openapi-typescript';

const root = path.resolve(import.meta.dirname, '..');
const spec = JSON.parse(fs.readFileSync(path.join(root, 'openapi.json'), 'utf8')) as Parameters<typeof openapiTS>[0];
const out = path.join(root, 'web/src/api/schema.d.ts');
const banner = '// Generated from openapi.json by scripts/web-api-types.ts (npm run api:types); do not edit.\n';
fs.writeFileSync(out, banner + astToString(await openapiTS(spec)));
