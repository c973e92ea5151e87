import path from 'node:path';

export type Config = {
  port: number;
  host: string;
  dataDir: string;
  /** A PostgreSQL server; when unset the embedded PGlite database in `dataDir` is used. */
  databaseUrl: string | null;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** Most items the older systems' list routes return in one array. */
  legacyListLimit: number;
  bodyLimitBytes: number;
  /** Seconds to wait for in-flight requests on SIGTERM before closing anyway. */
  shutdownGraceSeconds: number;
};

export class ConfigError extends Error {}

type Env = Record<string, string | undefined>;

const logLevels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

function integer(env: Env, name: string, fallback: number, min: number, max: number, problems: string[]): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+$/.test(raw.trim()) || Number(raw) < min || Number(raw) > max) {
    problems.push(`${name} must be a whole number from ${min} to ${max}, got "${raw}"`);
    return fallback;
  }
  return Number(raw);
}

function oneOf<T extends string>(env: Env, name: string, allowed: readonly T[], fallback: T, problems: string[]): T {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!(allowed as readonly string[]).includes(raw)) {
    problems.push(`${name} must be one of ${allowed.join(', ')}, got "${raw}"`);
    return fallback;
  }
  return raw as T;
}

function databaseUrl(env: Env, problems: string[]): string | null {
  const raw = env.DATABASE_URL;
  if (raw === undefined || raw === '') return null;
  try {
    const url = new URL(raw);
    if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
      problems.push(`DATABASE_URL must start with postgres:// or postgresql://, got "${url.protocol}//…"`);
    }
  } catch {
    problems.push('DATABASE_URL is not a valid URL');
  }
  return raw;
}

/** Reads and validates the environment; every bad value is reported at once in one error. */
export function loadConfig(env: Env = process.env): Config {
  const problems: string[] = [];
  const config: Config = {
    port: integer(env, 'PORT', 4040, 0, 65535, problems),
    host: env.HOST || '0.0.0.0',
    dataDir: path.resolve(env.DATA_DIR || './data'),
    databaseUrl: databaseUrl(env, problems),
    logLevel: oneOf(env, 'LOG_LEVEL', logLevels, 'info', problems),
    legacyListLimit: integer(env, 'LEGACY_LIST_LIMIT', 1000, 1, 100_000, problems),
    bodyLimitBytes: integer(env, 'BODY_LIMIT_BYTES', 1_048_576, 1024, 104_857_600, problems),
    shutdownGraceSeconds: integer(env, 'SHUTDOWN_GRACE_SECONDS', 10, 0, 600, problems),
  };
  if (problems.length > 0) throw new ConfigError(`invalid configuration: ${problems.join('; ')}`);
  return config;
}
