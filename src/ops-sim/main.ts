import { parseArgs } from 'node:util';
import { startOpsSim, type OpsSimOptions } from './server.js';

/**
 * `npm run ops-sim -- --port 4050 --seed 42 --send-failure-rate 0.2 --query-failure-rate 0.1 --latency 50-300`
 * Every flag has an environment twin: OPS_SIM_PORT, OPS_SIM_HOST, OPS_SIM_SEED, OPS_SIM_SEND_FAILURE_RATE,
 * OPS_SIM_QUERY_FAILURE_RATE, OPS_SIM_LATENCY_MS, OPS_SIM_TOKEN.
 */
const usage =
  'usage: npm run ops-sim -- [--port 4050] [--host 127.0.0.1] [--seed N] [--send-failure-rate 0..1] ' +
  '[--query-failure-rate 0..1] [--latency MIN-MAX] [--token TOKEN]';

function fail(message: string): never {
  console.error(`ops-sim: ${message}\n${usage}`);
  process.exit(2);
}

function rate(name: string, raw: string | undefined): number | undefined {
  if (raw === undefined || raw === '') return undefined;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0 || value > 1) fail(`${name} must be a number from 0 to 1, got "${raw}"`);
  return value;
}

function wholeNumber(name: string, raw: string | undefined, max: number): number | undefined {
  if (raw === undefined || raw === '') return undefined;
  if (!/^\d+$/.test(raw) || Number(raw) > max) fail(`${name} must be a whole number from 0 to ${max}, got "${raw}"`);
  return Number(raw);
}

function latency(raw: string | undefined): [number, number] | undefined {
  if (raw === undefined || raw === '') return undefined;
  const match = /^(\d+)(?:-(\d+))?$/.exec(raw);
  if (!match) fail(`latency must be MS or MIN-MAX milliseconds, got "${raw}"`);
  const min = Number(match[1]);
  const max = match[2] === undefined ? min : Number(match[2]);
  if (max < min || max > 600_000) fail(`latency must be MIN-MAX with MIN ≤ MAX ≤ 600000, got "${raw}"`);
  return [min, max];
}

let values: Record<string, string | boolean | undefined>;
try {
  values = parseArgs({
    options: {
      port: { type: 'string' },
      host: { type: 'string' },
      seed: { type: 'string' },
      'send-failure-rate': { type: 'string' },
      'query-failure-rate': { type: 'string' },
      latency: { type: 'string' },
      token: { type: 'string' },
      help: { type: 'boolean' },
    },
  }).values;
} catch (error) {
  fail((error as Error).message);
}
if (values.help) {
  console.log(usage);
  process.exit(0);
}

const arg = (flag: string, env: string) => (values[flag] as string | undefined) ?? process.env[env];
const port = wholeNumber('port', arg('port', 'OPS_SIM_PORT'), 65535) ?? 4050;
const host = arg('host', 'OPS_SIM_HOST') || '127.0.0.1';
const options: OpsSimOptions = {
  seed: wholeNumber('seed', arg('seed', 'OPS_SIM_SEED'), 2 ** 32 - 1),
  sendFailureRate: rate('send-failure-rate', arg('send-failure-rate', 'OPS_SIM_SEND_FAILURE_RATE')),
  queryFailureRate: rate('query-failure-rate', arg('query-failure-rate', 'OPS_SIM_QUERY_FAILURE_RATE')),
  latencyMs: latency(arg('latency', 'OPS_SIM_LATENCY_MS')),
  token: arg('token', 'OPS_SIM_TOKEN') || undefined,
  logger: { level: 'info' },
};

const sim = await startOpsSim(options, port, host);
sim.app.log.info(`OPS simulator on ${sim.url} (contract at ${sim.url}/openapi.json)`);
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => void sim.close().then(() => process.exit(0)));
}
