import type { App } from './app.js';

/** Loads demo data into an empty database (a placeholder until workflows land). */
export async function loadDemoData(app: App): Promise<void> {
  app.log.info('demo data: nothing to load yet');
}
