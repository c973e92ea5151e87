import type { Kysely } from 'kysely';
import * as m0001 from './0001_tickets_and_stages.js';
import * as m0002 from './0002_workflows.js';
import * as m0003 from './0003_ops.js';
import * as m0004 from './0004_accounts.js';
import * as m0005 from './0005_search_views.js';
import * as m0006 from './0006_import.js';
import * as m0007 from './0007_event_consumers.js';
import * as m0008 from './0008_notifications.js';
import * as m0009 from './0009_webhooks.js';
import * as m0010 from './0010_search_document.js';
import * as m0011 from './0011_tallies.js';
import * as m0012 from './0012_monitor_indexes.js';
import * as m0013 from './0013_ops_interrupted.js';
import * as m0014 from './0014_forecast.js';
import * as m0015 from './0015_ticket_fields.js';
import * as m0016 from './0016_new_tickets_first_stage.js';
import * as m0017 from './0017_partitioned_history.js';
import * as m0018 from './0018_forecast_list_order.js';
import * as m0019 from './0019_lean_write_path.js';
import * as m0020 from './0020_lean_storage.js';
import * as m0021 from './0021_open_list_index.js';
import * as m0022 from './0022_monitor_read_indexes.js';
import * as m0023 from './0023_sweep_next_alert.js';
import * as m0024 from './0024_project_named.js';
import * as m0025 from './0025_stage_duration_span.js';
import * as m0026 from './0026_forecast_background.js';
import * as m0027 from './0027_cheaper_write_triggers.js';

export type MigrationModule = { up(db: Kysely<unknown>): Promise<void> };

/** Every migration, by name; names sort in the order they run. Add new ones at the end. */
export const migrations: Record<string, MigrationModule> = {
  '0001_tickets_and_stages': m0001,
  '0002_workflows': m0002,
  '0003_ops': m0003,
  '0004_accounts': m0004,
  '0005_search_views': m0005,
  '0006_import': m0006,
  '0007_event_consumers': m0007,
  '0008_notifications': m0008,
  '0009_webhooks': m0009,
  '0010_search_document': m0010,
  '0011_tallies': m0011,
  '0012_monitor_indexes': m0012,
  '0013_ops_interrupted': m0013,
  '0014_forecast': m0014,
  '0015_ticket_fields': m0015,
  '0016_new_tickets_first_stage': m0016,
  '0017_partitioned_history': m0017,
  '0018_forecast_list_order': m0018,
  '0019_lean_write_path': m0019,
  '0020_lean_storage': m0020,
  '0021_open_list_index': m0021,
  '0022_monitor_read_indexes': m0022,
  '0023_sweep_next_alert': m0023,
  '0024_project_named': m0024,
  '0025_stage_duration_span': m0025,
  '0026_forecast_background': m0026,
  '0027_cheaper_write_triggers': m0027,
};
