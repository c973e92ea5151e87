import { performance } from 'node:perf_hooks';
import ipaddr from 'ipaddr.js';
import { Agent, request } from 'undici';
import { isTimeout } from '../ops/client.js';
import { hostOf, isPublicAddress, publicOnlyLookup } from './address.js';

/** How much of a receiver's answer is kept (and read at all). */
export const responseBodyLimit = 2048;

export type CallFailure = 'timeout' | 'connection' | 'blocked';

/** One POST to a receiver, as the delivery log records it. */
export type Call = {
  status: number | null;
  /** The first 2 KB of the answer. */
  body: string | null;
  latencyMs: number | null;
  /** Set when no HTTP answer came back. */
  failure: CallFailure | null;
  error: string | null;
};

/**
 * POSTs webhook bodies with undici: a timeout on connect, headers and body, redirects never followed (undici's
 * `request` does not follow them), at most 2 KB of the answer read, and — unless private targets are allowed —
 * connections only to public addresses.
 */
export class WebhookClient {
  readonly #agent: Agent;

  constructor(
    private readonly timeoutMs: number,
    private readonly allowPrivate: boolean,
  ) {
    this.#agent = new Agent({
      connect: { timeout: timeoutMs, ...(allowPrivate ? {} : { lookup: publicOnlyLookup }) },
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
      keepAliveTimeout: 10_000,
    });
  }

  async post(url: string, body: string, headers: Record<string, string>): Promise<Call> {
    const failed = (failure: CallFailure, error: string, latencyMs: number | null = null): Call => ({
      status: null,
      body: null,
      latencyMs,
      failure,
      error,
    });
    // A literal address is connected to without any lookup, so it is checked here.
    const host = hostOf(new URL(url));
    if (!this.allowPrivate && ipaddr.isValid(host) && !isPublicAddress(host)) {
      return failed('blocked', `${host} is not a public address (WEBHOOK_ALLOW_PRIVATE is off)`);
    }
    const started = performance.now();
    const elapsed = () => Math.round(performance.now() - started);
    try {
      const response = await request(url, {
        method: 'POST',
        headers,
        body,
        dispatcher: this.#agent,
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      const text = await readStart(response.body);
      return { status: response.statusCode, body: text, latencyMs: elapsed(), failure: null, error: null };
    } catch (error) {
      if (isBlocked(error)) return failed('blocked', describe(error), elapsed());
      if (isTimeout(error)) return failed('timeout', `no answer within ${this.timeoutMs} ms`, elapsed());
      return failed('connection', `cannot reach the receiver: ${describe(error)}`, elapsed());
    }
  }

  async close(): Promise<void> {
    await this.#agent.close();
  }
}

/** Reads the first `responseBodyLimit` bytes and drops the rest (the connection is not reused then). */
async function readStart(body: AsyncIterable<Buffer | Uint8Array> & { destroy(): unknown }): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    chunks.push(Buffer.from(chunk));
    size += chunk.length;
    if (size >= responseBodyLimit) {
      body.destroy();
      break;
    }
  }
  return Buffer.concat(chunks).subarray(0, responseBodyLimit).toString('utf8');
}

type ErrorLike = { name?: string; code?: string; message?: string; cause?: ErrorLike };

function isBlocked(error: unknown): boolean {
  const e = error as ErrorLike;
  return e?.code === 'WEBHOOK_BLOCKED_ADDRESS' || e?.cause?.code === 'WEBHOOK_BLOCKED_ADDRESS';
}

function describe(error: unknown): string {
  const e = error as ErrorLike;
  if (isBlocked(error)) return (e.code === 'WEBHOOK_BLOCKED_ADDRESS' ? e.message : e.cause?.message) ?? 'blocked address';
  return e?.code ?? e?.cause?.code ?? e?.message ?? String(error);
}
