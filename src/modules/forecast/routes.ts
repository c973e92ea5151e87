import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { Envelope, ErrorBody, ok } from '../../http/envelope.js';

export type ForecastPluginOptions = {
  /** Refresh the models on a timer. Only the server sets it; tests call `services.forecast.refresh()`. */
  backgroundJobs?: boolean;
};

export const forecastRoutes: FastifyPluginAsyncTypebox<ForecastPluginOptions> = async (app, options) => {
  const forecast = app.services.forecast;
  if (options.backgroundJobs) {
    app.addHook('onReady', async () => forecast.start((error) => app.log.error({ err: error }, 'forecast refresh failed')));
  }
  app.addHook('onClose', async () => forecast.stop());

  app.post(
    '/forecast/refresh',
    {
      config: { access: 'project:write' },
      schema: {
        tags: ['projects'],
        summary: 'Rebuild every project’s forecast model from its history now (it is rebuilt every 10 minutes anyway)',
        response: { 200: Envelope(Type.Object({ projects: Type.Integer() })), 401: ErrorBody, 403: ErrorBody },
      },
    },
    async () => {
      const projects = await forecast.refresh();
      return ok({ projects }, `${projects} forecast model(s) rebuilt`);
    },
  );
};
