import { performance } from 'node:perf_hooks';
import { Value } from 'typebox/value';
import { Agent, request } from 'undici';
import type { TSchema, Static } from 'typebox';
import type { CircuitBreaker } from './breaker.js';
import { OpsAccepted, OpsTicketState, opsHeaders, type OpsTicketInput } from './contract.js';

export type Failure = 'timeout' | 'connection' | 'server' | 'rejected' | 'protocol' | 'circuit_open' | 'not_configured';

/** One call to OPS as the log records it: what was asked (token redacted), what came back, how long it took. */
export type Exchange = {
  request: {
    method: string;
    url: string;
    headers: Record<string, string>;
    body?: unknown;
  };
  httpStatus: number | null;
  response: unknown;
  latencyMs: number | null;
  error: string | null;
  failure: Failure | null;
  /** Worth trying again later (OPS down, slow, or answering oddly); false when OPS refused the request itself. */
  retryable: boolean;
};

export type OpsResult<T> = { exchange: Exchange; data: T | null };

const maxResponseBytes = 256 * 1024;

/**
 * The HTTP connector to OPS (undici): a bearer token, a timeout on every call, an idempotency key on
 * every send, answers checked against the contract, and the circuit breaker in front of it all.
 */
export class OpsClient {
  readonly #agent: Agent;
  #baseUrl: string | null;

  constructor(
    baseUrl: string | null,
    private readonly token: string | null,
    private readonly timeoutMs: number,
    private readonly breaker: CircuitBreaker,
  ) {
    this.#baseUrl = baseUrl;
    this.#agent = new Agent({
      connectTimeout: timeoutMs,
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
      keepAliveTimeout: 10_000,
    });
  }

  get baseUrl(): string | null {
    return this.#baseUrl;
  }

  /** Points the connector at another OPS (the in-process simulator once it listens). */
  useBaseUrl(url: string): void {
    this.#baseUrl = url.replace(/\/+$/, '');
  }

  send(ticket: OpsTicketInput, idempotencyKey: string): Promise<OpsResult<OpsAccepted>> {
    return this.#call('POST', '/tickets', OpsAccepted, ticket, {
      [opsHeaders.idempotencyKey]: idempotencyKey,
    });
  }

  status(opsId: string): Promise<OpsResult<OpsTicketState>> {
    return this.#call('GET', `/tickets/${encodeURIComponent(opsId)}`, OpsTicketState);
  }

  async close(): Promise<void> {
    await this.#agent.close();
  }

  async #call<S extends TSchema>(
    method: 'GET' | 'POST',
    path: string,
    schema: S,
    body?: unknown,
    extraHeaders: Record<string, string> = {},
  ): Promise<OpsResult<Static<S>>> {
    const url = `${this.#baseUrl ?? ''}${path}`;
    const headers: Record<string, string> = {
      accept: 'application/json',
      ...extraHeaders,
    };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const logged = {
      method,
      url,
      headers: {
        ...headers,
        ...(this.token ? { authorization: 'Bearer [redacted]' } : {}),
      },
      ...(body !== undefined ? { body } : {}),
    };
    const failed = (failure: Failure, error: string, rest: Partial<Exchange> = {}): OpsResult<Static<S>> => ({
      exchange: {
        request: logged,
        httpStatus: null,
        response: null,
        latencyMs: null,
        error,
        failure,
        retryable: failure !== 'rejected',
        ...rest,
      },
      data: null,
    });

    if (this.#baseUrl === null) return failed('not_configured', 'OPS_URL is not set');
    if (!this.breaker.tryAcquire()) return failed('circuit_open', 'OPS is unavailable (circuit breaker open after repeated failures)');

    const started = performance.now();
    const elapsed = () => Math.round(performance.now() - started);
    let httpStatus: number;
    let text: string;
    try {
      const response = await request(url, {
        method,
        headers: {
          ...headers,
          ...(this.token ? { authorization: `Bearer ${this.token}` } : {}),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        dispatcher: this.#agent,
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      httpStatus = response.statusCode;
      text = await readLimited(response.body);
    } catch (error) {
      this.breaker.failure();
      const timedOut = isTimeout(error);
      return failed(
        timedOut ? 'timeout' : 'connection',
        timedOut ? `no answer from OPS within ${this.timeoutMs} ms` : `cannot reach OPS: ${describe(error)}`,
        { latencyMs: elapsed() },
      );
    }
    const latencyMs = elapsed();
    const response = parseJson(text);
    const base = { httpStatus, response, latencyMs };

    if (httpStatus >= 500 || httpStatus === 408 || httpStatus === 429) {
      this.breaker.failure();
      return failed('server', `OPS answered ${httpStatus}${messageOf(response)}`, base);
    }
    if (httpStatus >= 400) {
      this.breaker.neutral();
      // Refused for good only when OPS says our request is wrong; auth and routing problems are fixable by configuration.
      const final = httpStatus === 400 || httpStatus === 404 || httpStatus === 409 || httpStatus === 422;
      return failed(final ? 'rejected' : 'server', `OPS refused the request with ${httpStatus}${messageOf(response)}`, base);
    }
    if (!Value.Check(schema, response)) {
      this.breaker.failure();
      return failed('protocol', `OPS answered ${httpStatus} with a body that does not follow the contract`, base);
    }
    this.breaker.success();
    return {
      exchange: {
        request: logged,
        ...base,
        error: null,
        failure: null,
        retryable: false,
      },
      data: response as Static<S>,
    };
  }
}

async function readLimited(body: AsyncIterable<Buffer | Uint8Array>): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += chunk.length;
    if (size <= maxResponseBytes) chunks.push(Buffer.from(chunk));
  }
  return Buffer.concat(chunks).toString('utf8');
}

function parseJson(text: string): unknown {
  if (text === '') return null;
  try {
    return JSON.parse(text);
  } catch {
    return { text: text.slice(0, 2000) };
  }
}

function messageOf(response: unknown): string {
  if (response && typeof response === 'object' && 'message' in response && typeof response.message === 'string') {
    return `: ${response.message.slice(0, 300)}`;
  }
  return '';
}

/** Whether an undici failure was a timeout (ours, or undici's connect/headers/body limits). */
export function isTimeout(error: unknown): boolean {
  const e = error as {
    name?: string;
    code?: string;
    cause?: { name?: string };
  };
  return (
    e?.name === 'TimeoutError' ||
    e?.cause?.name === 'TimeoutError' ||
    e?.code === 'UND_ERR_HEADERS_TIMEOUT' ||
    e?.code === 'UND_ERR_BODY_TIMEOUT' ||
    e?.code === 'UND_ERR_CONNECT_TIMEOUT' ||
    e?.name === 'AbortError'
  );
}

function describe(error: unknown): string {
  const e = error as {
    code?: string;
    message?: string;
    cause?: { code?: string; message?: string };
  };
  return e?.code ?? e?.cause?.code ?? e?.message ?? String(error);
}
