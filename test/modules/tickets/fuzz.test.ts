import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { testApp, type TestApp } from '../../helpers/app.js';
import { fuzzRoute, randomId } from '../../helpers/fuzz.js';
import { stageInputFields } from '../../../src/modules/stages/schemas.js';
import { writableFields } from '../../../src/modules/tickets/shape.js';

let t: TestApp;
const ticketIds: string[] = [];
const stageIds: string[] = [];
before(async () => {
  t = await testApp();
  for (let i = 0; i < 3; i++) stageIds.push((await t.create.stage()).id);
  for (let i = 0; i < 5; i++) ticketIds.push((await t.create.ticket({ stages: stageIds.slice(0, 2) })).id);
});
after(() => t.close());

// What a body may carry, from the sources the routes read: the ticket field table's writable fields plus the ones
// a create or a legacy client may also send (both vocabularies), and a stage's input fields.
const ticketFields = [...writableFields, 'id', 'created_at', 'version', 'number', 'customer', 'assignedTo', 'createdAt'];
const stageFields = stageInputFields;

const cases = [
  { method: 'POST', path: () => '/api/tickets', fields: ticketFields },
  { method: 'PUT', path: (r: () => number) => `/api/tickets/${randomId(r, ticketIds)}`, fields: ticketFields },
  { method: 'PATCH', path: (r: () => number) => `/api/tickets/${randomId(r, ticketIds)}`, fields: ticketFields },
  { method: 'DELETE', path: (r: () => number) => `/api/tickets/${randomId(r, [])}`, fields: [] },
  { method: 'POST', path: () => '/tickets', fields: ticketFields },
  { method: 'PUT', path: (r: () => number) => `/tickets/${randomId(r, ticketIds)}`, fields: ticketFields },
  { method: 'POST', path: () => '/api/stages', fields: stageFields },
  { method: 'PATCH', path: (r: () => number) => `/api/stages/${randomId(r, stageIds)}`, fields: stageFields },
  { method: 'PUT', path: (r: () => number) => `/stages/${randomId(r, stageIds)}`, fields: stageFields },
  { method: 'POST', path: () => '/stages', fields: stageFields },
  { method: 'DELETE', path: (r: () => number) => `/api/stages/${randomId(r, [])}`, fields: [] },
] as const;

for (const [index, route] of cases.entries()) {
  test(`fuzz ${route.method} ${route.path(() => 0)}: only 2xx/4xx with the error shape`, async () => {
    const statuses = await fuzzRoute(t.api, { ...route, rounds: 150, seed: 1000 + index });
    assert.ok(
      Object.keys(statuses).some((status) => Number(status) >= 400),
      'bad input was rejected',
    );
  });
}
