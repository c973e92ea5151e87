import path from 'node:path';

/*
 * Every setting is declared once, in `settings` below: its environment variable, its default, what it means and how
 * it is checked. `loadConfig()` reads the environment through that table and `npm run docs` writes
 * docs/configuration.md from it (`npm run check` fails when that page is stale).
 */

type Env = Record<string, string | undefined>;

export class ConfigError extends Error {}

/** One environment variable: how it reads, and what the configuration page says about it. */
export type Setting<T> = {
  readonly kind: 'setting';
  readonly name: string;
  /** The default as the configuration page shows it. */
  readonly shown: string;
  /** What it means, in Markdown. */
  readonly doc: string;
  /** The values it takes, when a short rule says so (`0–65535`, `` `json`, `pretty` ``). */
  readonly allowed?: string;
  /** The value for this environment; each problem is pushed as one sentence naming the variable. */
  read(env: Env, problems: string[]): T;
};

function setting<T>(
  name: string,
  shown: string,
  doc: string,
  read: (raw: string | undefined, problems: string[], env: Env) => T,
  allowed?: string,
): Setting<T> {
  return {
    kind: 'setting',
    name,
    shown,
    doc,
    allowed,
    read: (env, problems) => read(env[name] === '' ? undefined : env[name], problems, env),
  };
}

function integer(name: string, fallback: number, min: number, max: number, doc: string): Setting<number> {
  const read = (raw: string | undefined, problems: string[]) => {
    if (raw === undefined) return fallback;
    if (!/^\d+$/.test(raw.trim()) || Number(raw) < min || Number(raw) > max) {
      problems.push(`${name} must be a whole number from ${min} to ${max}, got "${raw}"`);
      return fallback;
    }
    return Number(raw);
  };
  return setting(name, `\`${fallback}\``, doc, read, `${min}–${max}`);
}

function oneOf<const T extends string>(name: string, allowed: readonly T[], fallback: T, doc: string): Setting<T> {
  const read = (raw: string | undefined, problems: string[]) => {
    if (raw === undefined) return fallback;
    if (!(allowed as readonly string[]).includes(raw)) {
      problems.push(`${name} must be one of ${allowed.join(', ')}, got "${raw}"`);
      return fallback;
    }
    return raw as T;
  };
  return setting(name, `\`${fallback}\``, doc, read, allowed.map((value) => `\`${value}\``).join(', '));
}

function flag(name: string, doc: string): Setting<boolean> {
  const read = oneOf(name, ['true', 'false'], 'false', doc);
  return { ...read, read: (env, problems) => read.read(env, problems) === 'true' };
}

/** An http(s), smtp(s) … URL, or null when unset; the message names what is expected. */
function url(
  name: string,
  protocols: RegExp,
  expected: string,
  doc: string,
  options: { trimSlash?: boolean } = {},
): Setting<string | null> {
  return setting(name, '—', doc, (raw, problems) => {
    if (raw === undefined) return null;
    if (!(protocols.test(raw) && URL.canParse(raw))) problems.push(`${name} must be ${expected}`);
    return options.trimSlash ? raw.replace(/\/+$/, '') : raw;
  });
}

/** A key that signs or verifies something; never logged. */
function secret(name: string, minLength: number, doc: string, shown = '—'): Setting<string | null> {
  return setting(name, shown, doc, (raw, problems) => {
    if (raw !== undefined && raw.length < minLength) problems.push(`${name} must be at least ${minLength} characters long`);
    return raw ?? null;
  });
}

function text(name: string, fallback: string, doc: string): Setting<string> {
  return setting(name, `\`${fallback}\``, doc, (raw) => raw ?? fallback);
}

const port = integer('PORT', 4040, 0, 65535, 'the port the server listens on (`0`: any free port)');

/**
 * The specification. Groups become sections of docs/configuration.md (titles in `sections`); the order here is the
 * order there.
 */
export const settings = {
  port,
  host: text('HOST', '0.0.0.0', 'the address the server listens on (`127.0.0.1`: this machine only)'),
  dataDir: setting('DATA_DIR', '`./data`', 'directory of the embedded database (used when `DATABASE_URL` is unset)', (raw) =>
    path.resolve(raw ?? './data'),
  ),
  dataDirMinFreeMb: integer(
    'DATA_DIR_MIN_FREE_MB',
    64,
    0,
    1_048_576,
    "writes to the embedded database answer 507 while the data directory's disk has less than this many MiB free, so PGlite never meets a full disk mid-write; reads keep working (0: off)",
  ),
  databaseUrl: setting(
    'DATABASE_URL',
    '—',
    '`postgres://user:password@host:5432/db` to run on a PostgreSQL server instead of the embedded database',
    (raw, problems) => {
      if (raw === undefined) return null;
      try {
        const parsed = new URL(raw);
        if (parsed.protocol !== 'postgres:' && parsed.protocol !== 'postgresql:') {
          problems.push(`DATABASE_URL must start with postgres:// or postgresql://, got "${parsed.protocol}//…"`);
        }
      } catch {
        problems.push('DATABASE_URL is not a valid URL');
      }
      return raw;
    },
  ),
  databasePoolSize: integer(
    'DATABASE_POOL_SIZE',
    20,
    1,
    1000,
    'connections to the PostgreSQL server; requests, background jobs and the change feed share them, and a request waits at most 5 s for one',
  ),
  databaseReadUrls: setting(
    'DATABASE_READ_URL',
    '—',
    'read replicas of `DATABASE_URL` (streaming standbys), comma-separated: lists, search, export, the board, timelines and dashboard numbers read there, writes and whatever a write reads go to `DATABASE_URL`; a client reads its own writes (see [Scaling](scaling.md#3-read-replicas)); a replica that is down or behind is skipped. Needs `DATABASE_URL`',
    (raw, problems, env): string[] => {
      if (raw === undefined) return [];
      const urls = raw
        .split(',')
        .map((part) => part.trim())
        .filter((part) => part !== '');
      for (const [index, value] of urls.entries()) {
        if (!/^postgres(ql)?:\/\//i.test(value) || !URL.canParse(value)) {
          problems.push(`DATABASE_READ_URL must be postgres:// URLs separated by commas; entry ${index + 1} is not one`);
        }
      }
      if (urls.length > 0 && !env.DATABASE_URL) {
        problems.push('DATABASE_READ_URL needs DATABASE_URL: the embedded database (PGlite) has no read replicas');
      }
      return urls;
    },
  ),
  databaseReadMaxLagMs: integer(
    'DATABASE_READ_MAX_LAG_MS',
    5000,
    0,
    3_600_000,
    'a read replica further behind the primary than this many ms serves no reads until it catches up',
  ),
  logLevel: oneOf(
    'LOG_LEVEL',
    ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'],
    'info',
    'the least important log entries written',
  ),
  logFormat: oneOf(
    'LOG_FORMAT',
    ['auto', 'pretty', 'json'],
    'auto',
    'logs as one JSON object a line (`json`, for log collectors) or as readable lines (`pretty`); `auto`: pretty when standard output is a terminal and `NODE_ENV` is not `production`, else JSON',
  ),
  legacyListLimit: integer('LEGACY_LIST_LIMIT', 1000, 1, 100_000, "most items in one answer of the older systems' list routes"),
  bodyLimitBytes: integer('BODY_LIMIT_BYTES', 1_048_576, 1024, 104_857_600, 'largest request body in bytes (`413` above)'),
  monitorCacheSeconds: integer(
    'MONITOR_CACHE_SECONDS',
    5,
    0,
    3600,
    'how long a dashboard aggregate (`/api/monitor/*`) is reused for the same question; any successful write through this process retires them at once; `0` computes every time',
  ),
  shutdownGraceSeconds: integer(
    'SHUTDOWN_GRACE_SECONDS',
    10,
    0,
    600,
    'how long SIGTERM waits for requests in flight before closing anyway',
  ),
  trustProxy: setting(
    'TRUST_PROXY',
    '`false`',
    "which proxies' `X-Forwarded-For`/`-Proto` to believe: `true`, a hop count or a comma-separated list of addresses/CIDRs. Behind a TLS-terminating proxy this makes session cookies `Secure` and per-address limits see the real client",
    (raw, problems): boolean | number | string => {
      const value = (raw ?? '').trim();
      if (value === '' || value === 'false') return false;
      if (value === 'true') return true;
      if (/^\d{1,2}$/.test(value)) return Number(value);
      if (!/^[0-9A-Fa-f.:/]+(\s*,\s*[0-9A-Fa-f.:/]+)*$/.test(value)) {
        problems.push(`TRUST_PROXY must be true, false, a hop count or a comma-separated list of addresses/CIDRs, got "${value}"`);
        return false;
      }
      return value;
    },
  ),
  auth: {
    adminEmail: setting(
      'ADMIN_EMAIL',
      '`admin@stageline.local`',
      'the first admin, created at start when there are no users',
      (raw, problems) => {
        const email = (raw ?? 'admin@stageline.local').trim().toLowerCase();
        if (!/^[^\s@]+@[^\s@]+$/.test(email)) problems.push(`ADMIN_EMAIL must be an email address, got "${email}"`);
        return email;
      },
    ),
    adminPassword: setting(
      'ADMIN_PASSWORD',
      'generated',
      "the first admin's password (10–256 characters); unset: one is generated and shown once on the terminal (see [Getting started](getting-started.md#first-sign-in))",
      (raw, problems) => {
        if (raw !== undefined && (raw.length < 10 || raw.length > 256)) problems.push('ADMIN_PASSWORD must be 10 to 256 characters long');
        return raw ?? null;
      },
    ),
    adminApiToken: setting(
      'ADMIN_API_TOKEN',
      '—',
      'an admin API token with exactly this value exists at every start (automation, CI, tests); a new value revokes the old one. 20–200 characters',
      (raw, problems) => {
        if (raw !== undefined && !/^[A-Za-z0-9._~+/=-]{20,200}$/.test(raw)) {
          problems.push('ADMIN_API_TOKEN must be 20 to 200 characters of A-Z a-z 0-9 . _ ~ + / = -');
        }
        return raw ?? null;
      },
    ),
    anonymousRole: setting(
      'ANONYMOUS_ROLE',
      '—',
      "`viewer` or `agent`: requests without credentials to the older systems' routes act with that role (a migration period; a warning at every start)",
      (raw, problems) => {
        const role = oneOf('ANONYMOUS_ROLE', ['viewer', 'agent', ''], '', '').read({ ANONYMOUS_ROLE: raw }, problems);
        return role === '' ? null : role;
      },
    ),
    metricsPublic: flag('METRICS_PUBLIC', 'serve `/metrics` without a token'),
    passwordHashCost: integer(
      'PASSWORD_HASH_COST',
      15,
      4,
      20,
      'scrypt cost (log2 N) of new password hashes: 15 is 32 MiB per hash; lower only in tests. Raising it keeps old passwords valid',
    ),
    sessionIdleMinutes: integer('SESSION_IDLE_MINUTES', 60, 1, 10_080, 'a dashboard session ends after this long without use'),
    sessionMaxHours: integer('SESSION_MAX_HOURS', 12, 1, 720, 'a dashboard session ends after this long at the latest'),
    loginMaxFailures: integer(
      'LOGIN_MAX_FAILURES',
      10,
      2,
      1000,
      'failed logins that lock an account (each waits longer from half of it on)',
    ),
    loginIpMaxFailures: integer(
      'LOGIN_IP_MAX_FAILURES',
      100,
      2,
      100_000,
      'failed logins that lock an address (each waits longer from half of it on)',
    ),
    loginLockMinutes: integer('LOGIN_LOCK_MINUTES', 15, 1, 1440, 'how long a locked account or address stays locked'),
    tokenCacheSeconds: integer(
      'TOKEN_CACHE_SECONDS',
      5,
      0,
      300,
      'how long a checked API token is trusted without asking the database (any user or token change in this process clears it at once; other processes within this time); `0` asks every time',
    ),
    rateLimitMax: integer(
      'RATE_LIMIT_MAX',
      1200,
      0,
      1_000_000,
      'requests per token, session or address per window (`0` turns the limit off)',
    ),
    rateLimitWindowSeconds: integer('RATE_LIMIT_WINDOW_SECONDS', 60, 1, 86_400, 'the rate limit window in seconds'),
  },
  ops: {
    url: url(
      'OPS_URL',
      /^https?:\/\//i,
      'an http:// or https:// URL',
      'base URL of the OPS system; unset: a built-in simulator runs in-process on a loopback port',
      { trimSlash: true },
    ),
    token: setting('OPS_TOKEN', '—', 'sent to OPS as `Authorization: Bearer …`; never logged', (raw) => raw ?? null),
    timeoutMs: integer('OPS_TIMEOUT_MS', 5000, 10, 120_000, 'timeout of one call to OPS in ms'),
    maxAttempts: integer('OPS_MAX_ATTEMPTS', 8, 1, 100, 'attempts per hand-off before the ticket becomes `failed`'),
    syncIntervalSeconds: integer('OPS_SYNC_INTERVAL', 60, 0, 86_400, 'seconds between status polls of tickets OPS holds (`0`: no polling)'),
    callbackSecret: secret(
      'OPS_CALLBACK_SECRET',
      16,
      'HMAC-SHA256 key of `POST /api/ops/callback` (16 characters or more); unset: callbacks are refused',
    ),
    waitMs: integer('OPS_WAIT_MS', 2000, 0, 30_000, 'how long `POST /api/ops/:id` waits for the delivery before answering `202`'),
    retryBaseMs: integer('OPS_RETRY_BASE_MS', 1000, 1, 3_600_000, 'first wait before a retry in ms (exponential backoff with jitter)'),
    retryMaxMs: integer('OPS_RETRY_MAX_MS', 300_000, 1, 86_400_000, 'longest wait between two attempts in ms'),
    breakerThreshold: integer('OPS_BREAKER_THRESHOLD', 5, 1, 1000, 'failures in a row that open the circuit breaker'),
    breakerCooldownMs: integer(
      'OPS_BREAKER_COOLDOWN_MS',
      30_000,
      0,
      3_600_000,
      'how long the open breaker waits before trying OPS again, in ms',
    ),
  },
  webhooks: {
    timeoutMs: integer('WEBHOOK_TIMEOUT_MS', 10_000, 10, 120_000, 'timeout of one webhook call in ms'),
    maxAttempts: integer('WEBHOOK_MAX_ATTEMPTS', 10, 1, 100, 'attempts per delivery before it counts as failed'),
    retryBaseMs: integer(
      'WEBHOOK_RETRY_BASE_MS',
      30_000,
      1,
      3_600_000,
      "first wait before a delivery's retry in ms (exponential backoff with jitter)",
    ),
    retryMaxMs: integer('WEBHOOK_RETRY_MAX_MS', 21_600_000, 1, 86_400_000, 'longest wait between two attempts in ms'),
    maxFailures: integer('WEBHOOK_MAX_FAILURES', 10, 1, 10_000, 'failed deliveries in a row that disable a webhook (its owner is mailed)'),
    allowPrivate: flag(
      'WEBHOOK_ALLOW_PRIVATE',
      'let webhook URLs reach loopback, private, link-local and other non-public addresses (off: refused, so an admin-supplied URL cannot reach into the server’s own network)',
    ),
  },
  history: {
    ticketHistoryMonths: integer(
      'TICKET_HISTORY_RETENTION_MONTHS',
      0,
      0,
      1200,
      'months of ticket history (comments, changes, moves) kept before the current one; older months are dropped whole (see `PARTITION_RETENTION`); `0` keeps it all',
    ),
    auditLogMonths: integer(
      'AUDIT_LOG_RETENTION_MONTHS',
      0,
      0,
      1200,
      'months of the audit log kept before the current one; older months are dropped whole; `0` keeps it all',
    ),
    opsLogMonths: integer(
      'OPS_LOG_RETENTION_MONTHS',
      0,
      0,
      1200,
      'months of the OPS communication log kept before the current one; older months are dropped whole; `0` keeps it all',
    ),
    mode: oneOf(
      'PARTITION_RETENTION',
      ['drop', 'detach'],
      'drop',
      'what happens to a month past its retention: `drop` deletes it; `detach` turns it into an ordinary table (e.g. `audit_log_p2025_01`) to archive with `pg_dump -t` and drop by hand (see [Scaling](scaling.md#4-partitioned-history))',
    ),
  },
  mail: {
    smtpUrl: url(
      'SMTP_URL',
      /^smtps?:\/\//i,
      'an smtp:// or smtps:// URL (e.g. smtp://user:pass@mail.example.com:587)',
      '`smtp://user:pass@host:587` or `smtps://…:465` for notification mail (never logged); unset: mail is only kept in the database (status `stored`), readable under Admin → Sent mail',
    ),
    from: setting(
      'MAIL_FROM',
      '`Stageline <stageline@localhost>`',
      'sender of notification mail; its domain ends each Message-ID',
      (raw, problems) => {
        const from = (raw ?? 'Stageline <stageline@localhost>').trim();
        if (!/^([^<>]*<[^\s@<>]+@[^\s@<>]+>|[^\s@<>]+@[^\s@<>]+)$/.test(from)) {
          problems.push(`MAIL_FROM must be an address, optionally with a name ("Stageline <stageline@example.com>"), got "${from}"`);
        }
        return from;
      },
    ),
    publicUrl: setting(
      'PUBLIC_URL',
      '`http://localhost:<PORT>`',
      'base of the links in mail (tickets, unsubscribe)',
      (raw, problems, env) => {
        const value = raw ?? `http://localhost:${port.read(env, [])}`;
        if (!(/^https?:\/\//i.test(value) && URL.canParse(value))) problems.push('PUBLIC_URL must be an http:// or https:// URL');
        return value.replace(/\/+$/, '');
      },
    ),
    notifySecret: secret(
      'NOTIFY_SECRET',
      16,
      'HMAC key of unsubscribe links (16 characters or more); changing it voids links already sent',
      'generated once, kept in the database',
    ),
  },
};

/** Section titles of docs/configuration.md: the top level, then each group. */
export const sections: Record<string, string> = {
  '': 'Server, database and logs',
  auth: 'Accounts, sessions and limits',
  ops: 'OPS hand-off',
  webhooks: 'Webhooks',
  history: 'History retention',
  mail: 'E-mail notifications',
};

type Read<S> = S extends Setting<infer T> ? T : { -readonly [K in keyof S]: Read<S[K]> };
type Spec = { [key: string]: Setting<unknown> | Spec };

export type Config = Read<typeof settings>;
export type AuthConfig = Config['auth'];
export type OpsConfig = Config['ops'];
export type WebhooksConfig = Config['webhooks'];
export type MailConfig = Config['mail'];

function isSetting(entry: Setting<unknown> | Spec): entry is Setting<unknown> {
  return (entry as Setting<unknown>).kind === 'setting';
}

function readAll(spec: Spec, env: Env, problems: string[]): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(spec).map(([key, entry]) => [key, isSetting(entry) ? entry.read(env, problems) : readAll(entry, env, problems)]),
  );
}

/** Reads and validates the environment; every bad value is reported at once in one error. */
export function loadConfig(env: Env = process.env): Config {
  const problems: string[] = [];
  const config = readAll(settings, env, problems) as Config;
  if (problems.length > 0) throw new ConfigError(`invalid configuration: ${problems.join('; ')}`);
  return config;
}

/** Each group's settings in declaration order, for docs/configuration.md. */
export function settingGroups(): { key: string; title: string; settings: Setting<unknown>[] }[] {
  const top: Setting<unknown>[] = [];
  const groups: { key: string; title: string; settings: Setting<unknown>[] }[] = [];
  for (const [key, entry] of Object.entries(settings as Spec)) {
    if (isSetting(entry)) top.push(entry);
    else groups.push({ key, title: sections[key], settings: Object.values(entry).filter(isSetting) });
  }
  return [{ key: '', title: sections[''], settings: top }, ...groups];
}
