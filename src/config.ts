import path from 'node:path';

export type Config = {
  port: number;
  host: string;
  dataDir: string;
  /** Writes to the embedded database answer 507 while its disk has less than this many MiB free (0: off). */
  dataDirMinFreeMb: number;
  /** A PostgreSQL server; when unset the embedded PGlite database in `dataDir` is used. */
  databaseUrl: string | null;
  /** Connections to the PostgreSQL server (not used with the embedded database). */
  databasePoolSize: number;
  /** The OPS connector (issue 5). */
  ops: OpsConfig;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** Most items the older systems' list routes return in one array. */
  legacyListLimit: number;
  bodyLimitBytes: number;
  /** How long a dashboard aggregate (/api/monitor/*) is reused for the same question (0: computed every time). */
  monitorCacheSeconds: number;
  /** Seconds to wait for in-flight requests on SIGTERM before closing anyway. */
  shutdownGraceSeconds: number;
  /**
   * Which proxies' X-Forwarded-For/-Proto to believe: false (default), true, a hop count or a list of addresses.
   * Behind a TLS-terminating proxy this makes session cookies Secure and per-address limits see the real client.
   */
  trustProxy: boolean | number | string;
  /** Accounts, sessions, tokens, throttling (issue 11). */
  auth: AuthConfig;
  /** Outgoing webhooks. */
  webhooks: WebhooksConfig;
  /** E-mail notifications. */
  mail: MailConfig;
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

export type OpsConfig = {
  /** OPS base URL; unset: the server runs the OPS simulator in-process. */
  url: string | null;
  /** Sent as `Authorization: Bearer …`; never logged. */
  token: string | null;
  timeoutMs: number;
  maxAttempts: number;
  /** Seconds between polls of OPS for tickets with open hand-offs; 0 turns polling off. */
  syncIntervalSeconds: number;
  /** HMAC-SHA256 key of `POST /api/ops/callback`; unset: callbacks are refused. */
  callbackSecret: string | null;
  /** How long `POST /api/ops/:id` waits for the delivery before answering 202. */
  waitMs: number;
  retryBaseMs: number;
  retryMaxMs: number;
  /** Consecutive failures that open the circuit breaker, and how long it stays open. */
  breakerThreshold: number;
  breakerCooldownMs: number;
};

function opsConfig(env: Env, problems: string[]): OpsConfig {
  const url = env.OPS_URL || null;
  if (url !== null && !(/^https?:\/\//i.test(url) && URL.canParse(url))) problems.push('OPS_URL must be an http:// or https:// URL');
  const callbackSecret = env.OPS_CALLBACK_SECRET || null;
  if (callbackSecret !== null && callbackSecret.length < 16) problems.push('OPS_CALLBACK_SECRET must be at least 16 characters long');
  return {
    url: url === null ? null : url.replace(/\/+$/, ''),
    token: env.OPS_TOKEN || null,
    timeoutMs: integer(env, 'OPS_TIMEOUT_MS', 5000, 10, 120_000, problems),
    maxAttempts: integer(env, 'OPS_MAX_ATTEMPTS', 8, 1, 100, problems),
    syncIntervalSeconds: integer(env, 'OPS_SYNC_INTERVAL', 60, 0, 86_400, problems),
    callbackSecret,
    waitMs: integer(env, 'OPS_WAIT_MS', 2000, 0, 30_000, problems),
    retryBaseMs: integer(env, 'OPS_RETRY_BASE_MS', 1000, 1, 3_600_000, problems),
    retryMaxMs: integer(env, 'OPS_RETRY_MAX_MS', 300_000, 1, 86_400_000, problems),
    breakerThreshold: integer(env, 'OPS_BREAKER_THRESHOLD', 5, 1, 1000, problems),
    breakerCooldownMs: integer(env, 'OPS_BREAKER_COOLDOWN_MS', 30_000, 0, 3_600_000, problems),
  };
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

export type AuthConfig = {
  /** The first admin, created when there are no users yet. */
  adminEmail: string;
  /** Unset: a password is generated and printed once in the log. */
  adminPassword: string | null;
  /** An admin API token with exactly this value is kept in place (automation, tests). */
  adminApiToken: string | null;
  /** Requests without credentials to the older systems' routes act with this role (migration period). */
  anonymousRole: 'viewer' | 'agent' | null;
  metricsPublic: boolean;
  /** log2 of scrypt's cost N for new password hashes (15 = 32 MiB, 2^15 rounds); lower only in tests. */
  passwordHashCost: number;
  sessionIdleMinutes: number;
  sessionMaxHours: number;
  /** Failed logins for one account before it is locked (backoff starts at half). */
  loginMaxFailures: number;
  /** Failed logins from one address before it is locked (backoff starts at half). */
  loginIpMaxFailures: number;
  loginLockMinutes: number;
  /** Requests per window per token, session or address; 0 turns the general rate limit off. */
  /** How long a checked API token is trusted without asking the database again (0: every request asks). */
  tokenCacheSeconds: number;
  rateLimitMax: number;
  rateLimitWindowSeconds: number;
};

function boolean(env: Env, name: string, problems: string[]): boolean {
  return oneOf(env, name, ['true', 'false'], 'false', problems) === 'true';
}

function trustProxy(env: Env, problems: string[]): boolean | number | string {
  const raw = (env.TRUST_PROXY ?? '').trim();
  if (raw === '' || raw === 'false') return false;
  if (raw === 'true') return true;
  if (/^\d{1,2}$/.test(raw)) return Number(raw);
  if (!/^[0-9A-Fa-f.:/]+(\s*,\s*[0-9A-Fa-f.:/]+)*$/.test(raw)) {
    problems.push(`TRUST_PROXY must be true, false, a hop count or a comma-separated list of addresses/CIDRs, got "${raw}"`);
    return false;
  }
  return raw;
}

function authConfig(env: Env, problems: string[]): AuthConfig {
  const adminEmail = (env.ADMIN_EMAIL || 'admin@stageline.local').trim().toLowerCase();
  if (!/^[^\s@]+@[^\s@]+$/.test(adminEmail)) problems.push(`ADMIN_EMAIL must be an email address, got "${adminEmail}"`);
  const adminPassword = env.ADMIN_PASSWORD || null;
  if (adminPassword !== null && (adminPassword.length < 10 || adminPassword.length > 256)) {
    problems.push('ADMIN_PASSWORD must be 10 to 256 characters long');
  }
  const adminApiToken = env.ADMIN_API_TOKEN || null;
  if (adminApiToken !== null && !/^[A-Za-z0-9._~+/=-]{20,200}$/.test(adminApiToken)) {
    problems.push('ADMIN_API_TOKEN must be 20 to 200 characters of A-Z a-z 0-9 . _ ~ + / = -');
  }
  const anonymousRole = oneOf(env, 'ANONYMOUS_ROLE', ['viewer', 'agent', ''], '', problems);
  return {
    adminEmail,
    adminPassword,
    adminApiToken,
    anonymousRole: anonymousRole === '' ? null : anonymousRole,
    metricsPublic: boolean(env, 'METRICS_PUBLIC', problems),
    passwordHashCost: integer(env, 'PASSWORD_HASH_COST', 15, 4, 20, problems),
    sessionIdleMinutes: integer(env, 'SESSION_IDLE_MINUTES', 60, 1, 10_080, problems),
    sessionMaxHours: integer(env, 'SESSION_MAX_HOURS', 12, 1, 720, problems),
    loginMaxFailures: integer(env, 'LOGIN_MAX_FAILURES', 10, 2, 1000, problems),
    loginIpMaxFailures: integer(env, 'LOGIN_IP_MAX_FAILURES', 100, 2, 100_000, problems),
    loginLockMinutes: integer(env, 'LOGIN_LOCK_MINUTES', 15, 1, 1440, problems),
    tokenCacheSeconds: integer(env, 'TOKEN_CACHE_SECONDS', 5, 0, 300, problems),
    rateLimitMax: integer(env, 'RATE_LIMIT_MAX', 1200, 0, 1_000_000, problems),
    rateLimitWindowSeconds: integer(env, 'RATE_LIMIT_WINDOW_SECONDS', 60, 1, 86_400, problems),
  };
}

export type WebhooksConfig = {
  timeoutMs: number;
  /** Attempts per delivery (retried with backoff) before it counts as failed. */
  maxAttempts: number;
  retryBaseMs: number;
  retryMaxMs: number;
  /** Failed deliveries in a row that disable a hook. */
  maxFailures: number;
  /**
   * Whether hooks may point at loopback, private, link-local and other non-public addresses. Off by default:
   * an admin-supplied URL must not become a way into the server's own network (SSRF). Tests and
   * single-machine setups turn it on.
   */
  allowPrivate: boolean;
};

function webhooksConfig(env: Env, problems: string[]): WebhooksConfig {
  return {
    timeoutMs: integer(env, 'WEBHOOK_TIMEOUT_MS', 10_000, 10, 120_000, problems),
    maxAttempts: integer(env, 'WEBHOOK_MAX_ATTEMPTS', 10, 1, 100, problems),
    retryBaseMs: integer(env, 'WEBHOOK_RETRY_BASE_MS', 30_000, 1, 3_600_000, problems),
    retryMaxMs: integer(env, 'WEBHOOK_RETRY_MAX_MS', 21_600_000, 1, 86_400_000, problems),
    maxFailures: integer(env, 'WEBHOOK_MAX_FAILURES', 10, 1, 10_000, problems),
    allowPrivate: boolean(env, 'WEBHOOK_ALLOW_PRIVATE', problems),
  };
}

export type MailConfig = {
  /** smtp:// or smtps:// with optional user:pass; unset: mail is kept in the database (status 'stored'), not sent. Never logged. */
  smtpUrl: string | null;
  from: string;
  /** Base of links in mail (tickets, unsubscribe), without a trailing slash. */
  publicUrl: string;
  /** HMAC key of unsubscribe links; unset: a key made once and kept in the database. */
  notifySecret: string | null;
};

function mailConfig(env: Env, port: number, problems: string[]): MailConfig {
  const smtpUrl = env.SMTP_URL || null;
  if (smtpUrl !== null && !(/^smtps?:\/\//i.test(smtpUrl) && URL.canParse(smtpUrl))) {
    problems.push('SMTP_URL must be an smtp:// or smtps:// URL (e.g. smtp://user:pass@mail.example.com:587)');
  }
  const from = (env.MAIL_FROM || 'Stageline <stageline@localhost>').trim();
  if (!/^([^<>]*<[^\s@<>]+@[^\s@<>]+>|[^\s@<>]+@[^\s@<>]+)$/.test(from)) {
    problems.push(`MAIL_FROM must be an address, optionally with a name ("Stageline <stageline@example.com>"), got "${from}"`);
  }
  const publicUrl = env.PUBLIC_URL || `http://localhost:${port}`;
  if (!(/^https?:\/\//i.test(publicUrl) && URL.canParse(publicUrl))) problems.push('PUBLIC_URL must be an http:// or https:// URL');
  const notifySecret = env.NOTIFY_SECRET || null;
  if (notifySecret !== null && notifySecret.length < 16) problems.push('NOTIFY_SECRET must be at least 16 characters long');
  return { smtpUrl, from, publicUrl: publicUrl.replace(/\/+$/, ''), notifySecret };
}

/** Reads and validates the environment; every bad value is reported at once in one error. */
export function loadConfig(env: Env = process.env): Config {
  const problems: string[] = [];
  const port = integer(env, 'PORT', 4040, 0, 65535, problems);
  const config: Config = {
    port,
    host: env.HOST || '0.0.0.0',
    dataDir: path.resolve(env.DATA_DIR || './data'),
    dataDirMinFreeMb: integer(env, 'DATA_DIR_MIN_FREE_MB', 64, 0, 1_048_576, problems),
    databaseUrl: databaseUrl(env, problems),
    databasePoolSize: integer(env, 'DATABASE_POOL_SIZE', 20, 1, 1000, problems),
    ops: opsConfig(env, problems),
    logLevel: oneOf(env, 'LOG_LEVEL', logLevels, 'info', problems),
    legacyListLimit: integer(env, 'LEGACY_LIST_LIMIT', 1000, 1, 100_000, problems),
    bodyLimitBytes: integer(env, 'BODY_LIMIT_BYTES', 1_048_576, 1024, 104_857_600, problems),
    monitorCacheSeconds: integer(env, 'MONITOR_CACHE_SECONDS', 5, 0, 3600, problems),
    shutdownGraceSeconds: integer(env, 'SHUTDOWN_GRACE_SECONDS', 10, 0, 600, problems),
    trustProxy: trustProxy(env, problems),
    auth: authConfig(env, problems),
    webhooks: webhooksConfig(env, problems),
    mail: mailConfig(env, port, problems),
  };
  if (problems.length > 0) throw new ConfigError(`invalid configuration: ${problems.join('; ')}`);
  return config;
}
