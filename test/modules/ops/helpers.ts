import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { testApp, type TestApp } from '../../helpers/app.js';

export const CALLBACK_SECRET = 'callback-secret-0123456789';

/** A test app talking to the OPS at `opsUrl`, with short timeouts so failures are quick. */
export function opsApp(opsUrl: string, overrides: Record<string, string> = {}): Promise<TestApp> {
  return testApp({
    OPS_URL: opsUrl,
    OPS_TOKEN: 'ops-secret-token',
    // Generous: a loaded test machine must not turn a quick answer into a timeout.
    OPS_TIMEOUT_MS: '3000',
    OPS_WAIT_MS: '5000',
    OPS_MAX_ATTEMPTS: '3',
    OPS_RETRY_BASE_MS: '1000',
    OPS_RETRY_MAX_MS: '60000',
    OPS_BREAKER_THRESHOLD: '100',
    OPS_CALLBACK_SECRET: CALLBACK_SECRET,
    ...overrides,
  });
}

export type StubRequest = { method: string; url: string; headers: http.IncomingHttpHeaders; body: any };
export type StubAnswer = { status: number; body?: unknown; delayMs?: number } | 'hang' | 'reset';
type Responder = (request: StubRequest, index: number) => StubAnswer;

/**
 * A fault-injecting OPS: each request is answered by the responder (status, body, delay, a hang or
 * a dropped connection). It creates an OPS ticket per new idempotency key once it answers 2xx,
 * even when the caller has stopped waiting — as a real slow OPS would.
 */
export async function startStub(responder: Responder) {
  const requests: StubRequest[] = [];
  const created = new Map<string, string>();
  let respond = responder;
  const server = http.createServer((req, res) => {
    let raw = '';
    req.on('data', (chunk) => (raw += chunk));
    req.on('end', async () => {
      const request = { method: req.method!, url: req.url!, headers: req.headers, body: raw ? JSON.parse(raw) : null };
      const index = requests.push(request) - 1;
      const answer = respond(request, index);
      if (answer === 'reset') return req.socket.destroy();
      if (answer === 'hang') return;
      if (answer.delayMs) await sleep(answer.delayMs);
      let body = answer.body;
      const key = req.headers['idempotency-key'] as string | undefined;
      if (req.method === 'POST' && key && answer.status < 300) {
        if (!created.has(key)) created.set(key, `OPS-${String(created.size + 1).padStart(8, '0')}`);
        body = {
          opsId: created.get(key),
          ticketId: request.body.ticketId,
          status: 'sent',
          acceptedAt: '2026-03-02T09:00:00.000Z',
          ...(body as object),
        };
      }
      res.writeHead(answer.status, { 'content-type': 'application/json' });
      res.end(body === undefined ? '' : JSON.stringify(body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    /** OPS tickets created, by idempotency key. */
    created,
    answer(next: Responder) {
      respond = next;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A loopback port nothing listens on (connection refused). */
export async function closedPort(): Promise<string> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}

export async function ticketRow(t: TestApp, id: string) {
  return t.database.db.selectFrom('tickets').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
}

export async function events(t: TestApp, id: string) {
  return t.database.db
    .selectFrom('ticket_events')
    .select(['type', 'data', 'visibility'])
    .where('ticket_id', '=', id)
    .orderBy('id')
    .execute();
}

export async function logs(t: TestApp, id: string) {
  return t.database.db.selectFrom('log_entries').selectAll().where('ticket_id', '=', id).orderBy('timestamp').orderBy('attempt').execute();
}
