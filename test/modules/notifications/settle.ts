import type { TestApp } from '../../helpers/app.js';
import { dispatchAll } from '../../helpers/dispatch.js';

/** Hands the history to its consumers and delivers every due mail. */
export async function deliver(t: TestApp): Promise<void> {
  await dispatchAll(t);
  while ((await t.app.services.outbox.runDue()) > 0);
}
