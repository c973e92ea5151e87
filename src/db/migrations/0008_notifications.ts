import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  // Every mail Stageline sent or would have sent (without SMTP_URL it is kept here, status 'stored').
  // No foreign keys: the record of what was mailed outlives its ticket and its reader's account.
  await sql`
    create table mail_deliveries (
      id text primary key,
      to_address text not null,
      dedupe_key text not null,
      subject text not null,
      text_body text not null,
      html_body text not null,
      headers jsonb not null default '{}',
      message_id text not null,
      reason text not null,
      event text,
      ticket_id text,
      ticket_number integer,
      user_id text,
      digest boolean not null default false,
      status text not null check (status in ('queued', 'retrying', 'sent', 'stored', 'failed')),
      attempts integer not null default 0,
      smtp_response text,
      error text,
      created_at timestamptz not null,
      updated_at timestamptz not null,
      sent_at timestamptz
    )`.execute(db);
  // One event never mails one address twice, whatever retried or restarted.
  await sql`create unique index mail_deliveries_dedupe on mail_deliveries (to_address, dedupe_key)`.execute(db);
  // The "Sent mail" list, newest first, whole or by status or by address.
  await sql`create index mail_deliveries_time on mail_deliveries (created_at, id)`.execute(db);
  await sql`create index mail_deliveries_status on mail_deliveries (status, created_at, id)`.execute(db);
  await sql`create index mail_deliveries_to on mail_deliveries (to_address, created_at, id)`.execute(db);

  // Events waiting for their reader's next digest (or the next batch of at-risk/overdue alerts).
  await sql`
    create table mail_digest_items (
      id bigint generated always as identity primary key,
      to_address text not null,
      user_id text,
      dedupe_key text not null,
      event text not null,
      ticket_id text not null,
      ticket_number integer,
      title text not null,
      summary text not null,
      reason text not null,
      due_at timestamptz not null,
      created_at timestamptz not null
    )`.execute(db);
  await sql`create unique index mail_digest_items_dedupe on mail_digest_items (to_address, dedupe_key)`.execute(db);
  await sql`create index mail_digest_items_due on mail_digest_items (to_address, due_at)`.execute(db);

  await sql`
    create table notification_preferences (
      user_id text primary key references users (id) on delete cascade,
      digest_minutes integer not null default 60 check (digest_minutes between 5 and 1440),
      events jsonb not null default '{}',
      updated_at timestamptz not null
    )`.execute(db);

  // Unsubscribes of addresses that are no account (stage contacts), and "no mail at all" for anyone.
  await sql`
    create table mail_suppressions (
      address text not null,
      event text not null,
      created_at timestamptz not null,
      primary key (address, event)
    )`.execute(db);

  await sql`
    create table ticket_watchers (
      ticket_id text not null references tickets (id) on delete cascade,
      user_id text not null references users (id) on delete cascade,
      created_at timestamptz not null,
      primary key (ticket_id, user_id)
    )`.execute(db);
  await sql`create index ticket_watchers_user on ticket_watchers (user_id)`.execute(db);

  await sql`
    create table view_subscriptions (
      view_id text not null references saved_views (id) on delete cascade,
      user_id text not null references users (id) on delete cascade,
      created_at timestamptz not null,
      primary key (view_id, user_id)
    )`.execute(db);
  await sql`create index view_subscriptions_user on view_subscriptions (user_id)`.execute(db);

  // The key that signs unsubscribe links when NOTIFY_SECRET is unset: made once, so links survive restarts.
  await sql`create table notification_keys (name text primary key, secret text not null)`.execute(db);
  await sql`insert into notification_keys (name, secret)
            values ('unsubscribe', replace(gen_random_uuid()::text || gen_random_uuid()::text, '-', ''))`.execute(db);
}
