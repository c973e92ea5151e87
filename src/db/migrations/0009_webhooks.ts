import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  // Outgoing webhooks (admin-configured). The secret must sign every call, so it is kept as given, not hashed;
  // it is shown to the admin once and never again. A hook outlives the admin who made it (owner set null).
  await sql`
    create table webhooks (
      id text primary key,
      url text not null,
      events text[] not null check (cardinality(events) > 0),
      description text not null default '',
      enabled boolean not null default true,
      disabled_reason text,
      secret text not null,
      consecutive_failures integer not null default 0 check (consecutive_failures >= 0),
      owner_id text references users (id) on delete set null,
      created_at timestamptz not null,
      updated_at timestamptz not null,
      last_delivery_at timestamptz,
      last_status text
    )`.execute(db);
  await sql`create index webhooks_list on webhooks (created_at, id)`.execute(db);

  // One row per call made for an event (and per ping or redelivery); the body is fixed when queued and
  // signed afresh on each attempt. Kept until the hook is deleted.
  await sql`
    create table webhook_deliveries (
      id text primary key,
      webhook_id text not null references webhooks (id) on delete cascade,
      event_id text not null,
      event_type text not null,
      trigger text not null check (trigger in ('event', 'ping', 'redelivery')),
      status text not null default 'queued' check (status in ('queued', 'retrying', 'delivered', 'failed')),
      attempts integer not null default 0,
      request_body text not null,
      response_status integer,
      response_body text,
      latency_ms integer,
      error text,
      created_at timestamptz not null,
      updated_at timestamptz not null,
      delivered_at timestamptz
    )`.execute(db);
  // An event is queued at most once per hook, even if the dispatcher hands it over again.
  await sql`create unique index webhook_deliveries_once on webhook_deliveries (webhook_id, event_id) where trigger = 'event'`.execute(db);
  await sql`create index webhook_deliveries_list on webhook_deliveries (webhook_id, created_at, id)`.execute(db);
}
