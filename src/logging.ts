import type { FastifyServerOptions } from 'fastify';
import type { Config } from './config.js';

/** Never logged: credentials in request headers. */
const redact = ['req.headers.authorization', 'req.headers.cookie'];

/** Readable lines for a person at a terminal; JSON for log collectors (see LOG_FORMAT). */
export function logsArePretty(config: Pick<Config, 'logFormat'>, stdout: { isTTY?: boolean } = process.stdout, env = process.env): boolean {
  if (config.logFormat !== 'auto') return config.logFormat === 'pretty';
  return stdout.isTTY === true && env.NODE_ENV !== 'production';
}

/** The server's logger: JSON by default; pino-pretty is loaded only when the logs are to be pretty. */
export async function loggerOptions(config: Config): Promise<NonNullable<FastifyServerOptions['logger']>> {
  const options = { level: config.logLevel, redact };
  if (!logsArePretty(config)) return options;
  const { default: pretty } = await import('pino-pretty');
  const stream = pretty({
    colorize: true,
    sync: true,
    singleLine: true,
    translateTime: 'SYS:HH:MM:ss',
    // One line per request event; the request id stays in the JSON logs.
    ignore: 'pid,hostname,reqId,req,res,responseTime',
    messageFormat: '{msg}{if req.method} {req.method} {req.url}{end}{if res.statusCode} → {res.statusCode} in {responseTime} ms{end}',
  });
  return { ...options, stream };
}
