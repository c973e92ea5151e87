import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  // Work for outside systems (OPS hand-offs; later e-mail and webhooks), written in the same
  // transaction as the change that asks for it, delivered by workers that claim rows with SKIP LOCKED.
  await sql`
    create table outbox (
      id bigint generated always as identity primary key,
      kind text not null,
      dedupe_key text,
      idempotency_key text not null unique,
      payload jsonb not null default '{}',
      state text not null default 'pending' check (state in ('pending', 'done', 'dead')),
      attempts integer not null default 0 check (attempts >= 0),
      max_attempts integer not null check (max_attempts >= 1),
      next_attempt_at timestamptz not null,
      claim_token text,
      claimed_at timestamptz,
      last_error text,
      result jsonb,
      created_at timestamptz not null,
      updated_at timestamptz not null,
      finished_at timestamptz
    )`.execute(db);
  // What the workers claim: due rows, oldest due first.
  await sql`create index outbox_due on outbox (next_attempt_at, id) where state = 'pending'`.execute(db);
  // At most one open job per (kind, dedupe key): a second request for the same work finds the first.
  await sql`create unique index outbox_dedupe on outbox (kind, dedupe_key) where state = 'pending' and dedupe_key is not null`.execute(db);
  // The queue as listed (pending jobs of a kind, oldest first) and finished rows by age for purging.
  await sql`create index outbox_pending on outbox (kind, created_at, id) where state = 'pending'`.execute(db);
  await sql`create index outbox_finished on outbox (finished_at) where state <> 'pending'`.execute(db);

  // Every exchange with OPS. No foreign key: the rows outlive the ticket (they record what OPS was told).
  await sql`
    create table log_entries (
      id text primary key,
      ticket_id text not null,
      action text not null check (action in ('send', 'retry', 'query', 'callback', 'poll')),
      status text not null check (status in ('success', 'failed')),
      timestamp timestamptz not null,
      attempt integer,
      http_status integer,
      latency_ms integer,
      ops_id text,
      request jsonb,
      response jsonb,
      error text
    )`.execute(db);
  await sql`create index log_entries_time on log_entries (timestamp, id)`.execute(db);
  await sql`create index log_entries_ticket on log_entries (ticket_id, timestamp, id)`.execute(db);
  await sql`create index log_entries_action on log_entries (action, timestamp, id)`.execute(db);
  await sql`create index log_entries_status on log_entries (status, timestamp, id)`.execute(db);

  // Signatures of OPS callbacks already accepted, so a replayed one is refused.
  await sql`
    create table ops_callback_signatures (
      signature text primary key,
      received_at timestamptz not null
    )`.execute(db);
  await sql`create index ops_callback_signatures_received on ops_callback_signatures (received_at)`.execute(db);

  // The tickets the status poller walks: handed to OPS and not yet final there.
  await sql`create index tickets_ops_open on tickets (id) where ops_id is not null and status in ('sent', 'in_progress', 'delayed')`.execute(
    db,
  );
}
