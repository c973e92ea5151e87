import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { Envelope, ErrorBody, ok } from '../../http/envelope.js';
import { searchFields, textSyntax } from './parser.js';

const SearchHelp = Type.Object({
  fields: Type.Array(Type.Object({ field: Type.String(), values: Type.String(), example: Type.String(), description: Type.String() })),
  text: Type.Array(Type.Object({ syntax: Type.String(), description: Type.String() })),
  example: Type.String(),
});

export const searchRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/search/help',
    {
      config: { access: 'ticket:read' },
      schema: {
        tags: ['search'],
        summary: "The search box's field terms and text syntax, for the dashboard's hint box",
        response: { 200: Envelope(SearchHelp), 401: ErrorBody, 403: ErrorBody },
      },
    },
    async () =>
      ok({
        fields: [...searchFields],
        text: textSyntax,
        example: 'status:open,pending priority:high customer:acme updated:<7d "printer on fire"',
      }),
  );
};
