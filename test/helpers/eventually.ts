import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Polls until `ready` answers true, then returns; fails naming `what` after `timeoutMs`. The one way a test waits for
 * something asynchronous (a worker, a socket, a commit): no fixed sleeps, which are too short on a loaded machine and
 * too long everywhere else, and no assertion on how long it took.
 */
export async function eventually(ready: () => boolean | Promise<boolean>, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await ready())) {
    if (Date.now() > deadline) assert.fail(`timed out waiting until ${what}`);
    await sleep(25);
  }
}
