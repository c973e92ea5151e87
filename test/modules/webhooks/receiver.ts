import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export type Received = { headers: IncomingHttpHeaders; body: string; path: string };
/** What the receiver answers one request with; `delayMs` holds the answer back (timeouts). */
export type Answer = { status: number; body?: string; delayMs?: number; headers?: Record<string, string> };

/**
 * A real HTTP receiver on 127.0.0.1 for webhook tests: records every request and answers from a queue
 * (then with `fallback`).
 */
export async function startReceiver(fallback: Answer = { status: 200, body: 'ok' }) {
  const received: Received[] = [];
  const answers: Answer[] = [];
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      received.push({ headers: request.headers, body: Buffer.concat(chunks).toString('utf8'), path: request.url ?? '' });
      const answer = answers.shift() ?? fallback;
      const send = () => {
        if (!response.destroyed)
          response.writeHead(answer.status, { 'content-type': 'text/plain', ...answer.headers }).end(answer.body ?? '');
      };
      if (answer.delayMs) setTimeout(send, answer.delayMs).unref();
      else send();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    received,
    /** Queues the next answers. */
    answer(...next: Answer[]) {
      answers.push(...next);
    },
    /** Answers everything after the queue with this. */
    always(answer: Answer) {
      fallback = answer;
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
