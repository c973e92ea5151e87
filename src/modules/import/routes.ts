import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Readable } from 'node:stream';
import { Type } from 'typebox';
import { Envelope, ErrorBody, ok } from '../../http/envelope.js';
import { AppError } from '../../errors.js';
import { MAX_LISTED_ERRORS, type ImportReport } from './service.js';

export const ImportReportSchema = Type.Object({
  format: Type.Union([Type.Literal('ndjson'), Type.Literal('csv')]),
  strict: Type.Boolean(),
  rows: Type.Integer({ description: 'Rows read (blank lines not counted)' }),
  imported: Type.Integer(),
  existing: Type.Integer({ description: 'Rows whose external_id was imported before: skipped, not an error' }),
  rejected: Type.Integer(),
  refused: Type.Boolean({ description: 'strict and some row was bad: nothing was written' }),
  errors: Type.Array(Type.Object({ line: Type.Integer(), reason: Type.String() }), {
    description: `The first ${MAX_LISTED_ERRORS} rejected rows`,
  }),
  seconds: Type.Number(),
  tickets_per_second: Type.Number(),
});

const ImportQuery = Type.Object(
  {
    format: Type.Optional(Type.Union([Type.Literal('ndjson'), Type.Literal('csv')], { description: 'Default: from Content-Type' })),
    strict: Type.Optional(Type.Boolean({ description: 'Refuse the whole import if any row is bad' })),
  },
  { additionalProperties: false },
);

/** Imports of up to 256 MiB in one request; bigger files go through `npm run import`. */
const IMPORT_BODY_LIMIT = 256 * 1024 * 1024;

export const importRoutes: FastifyPluginAsyncTypebox = async (app) => {
  for (const type of ['text/csv', 'application/x-ndjson']) {
    app.addContentTypeParser(type, { parseAs: 'string', bodyLimit: IMPORT_BODY_LIMIT }, (_request, body, done) => done(null, body));
  }

  app.post(
    '/import',
    {
      bodyLimit: IMPORT_BODY_LIMIT,
      config: { access: 'ticket:import' },
      schema: {
        tags: ['tickets'],
        summary: 'Import tickets with their stage visits (NDJSON or CSV; idempotent by external_id)',
        querystring: ImportQuery,
        consumes: ['application/x-ndjson', 'text/csv', 'text/plain'],
        body: Type.String({ description: 'NDJSON (Content-Type: application/x-ndjson) or CSV with a header row (text/csv)' }),
        response: { 200: Envelope(ImportReportSchema), 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 413: ErrorBody, 415: ErrorBody },
      },
    },
    async (request) => {
      const format = request.query.format ?? (request.headers['content-type']?.startsWith('text/csv') ? 'csv' : 'ndjson');
      const report: ImportReport = await app.services.imports.run(request.actor, Readable.from([request.body]), {
        format,
        strict: request.query.strict ?? false,
      });
      if (report.refused) {
        throw new AppError(
          'VALIDATION_FAILED',
          `import refused: ${report.rejected} bad row(s); nothing was imported`,
          report.errors.slice(0, 100).map((error) => ({ field: `line ${error.line}`, problem: error.reason })),
        );
      }
      return ok(report, `${report.imported} ticket(s) imported, ${report.existing} already there, ${report.rejected} rejected`);
    },
  );
};
