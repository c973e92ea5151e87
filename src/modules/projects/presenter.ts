import type { Calendar } from './calendar.js';
import type { StageDefinitionRow } from './repository.js';
import type { ProjectOut } from './schemas.js';
import type { ProjectView, Transition } from './service.js';

export function presentStageDefinitions(definitions: readonly StageDefinitionRow[]): ProjectOut['stages'] {
  const keyOf = new Map(definitions.map((definition) => [definition.id, definition.key]));
  return definitions.map((definition) => ({
    id: definition.id,
    key: definition.key,
    name: definition.name,
    parent: definition.parent_id ? (keyOf.get(definition.parent_id) ?? null) : null,
    stage_type: definition.parent_id ? 'minor' : 'major',
    position: definition.position,
    target_minutes: definition.target_minutes,
    pauses: definition.pauses,
    final: definition.final,
    archived: definition.archived,
  }));
}

export function presentProject(project: ProjectView): ProjectOut {
  return {
    id: project.id,
    key: project.key,
    name: project.name,
    description: project.description,
    calendar: project.calendar as Calendar | null,
    at_risk_threshold: project.at_risk_threshold,
    breach_likely_threshold: project.breach_likely_threshold,
    ticket_target_minutes: project.ticket_target_minutes,
    new_tickets_enter_first_stage: project.new_tickets_enter_first_stage,
    transitions: project.transitions as Transition[] | null,
    stages: presentStageDefinitions(project.definitions),
    created_at: project.created_at.toISOString(),
    updated_at: project.updated_at.toISOString(),
    version: project.version,
  };
}
