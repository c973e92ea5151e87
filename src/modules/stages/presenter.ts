import type { StageOut } from './schemas.js';
import type { StageView } from './service.js';

const iso = (value: Date | null) => (value ? value.toISOString() : null);

export function presentStage(stage: StageView): StageOut {
  return {
    id: stage.id,
    number: stage.number,
    stage_type: stage.stage_type,
    major_stage_id: stage.major_stage_id,
    stage_description: stage.stage_description,
    stage_start_time: iso(stage.stage_start_time),
    stage_end_time: iso(stage.stage_end_time),
    due_at: iso(stage.due_at),
    contact_emails: stage.contact_emails,
    ticket_ids: stage.ticket_ids,
    state: stage.state,
    overdue: stage.overdue,
    created_at: stage.created_at.toISOString(),
    updated_at: stage.updated_at.toISOString(),
    version: stage.version,
  };
}
