import type { Project, StageDefinition, Ticket } from '../api/types';

/** Where a ticket is in its workflow, from whichever fields the API gives. */
export function stageOf(ticket: Ticket): { key: string | null; name: string | null; since: string | null; due: string | null } {
  const current = ticket.current_stage ?? null;
  return {
    key: current?.key ?? null,
    name: current?.name ?? current?.key ?? null,
    since: current?.started_at ?? current?.stage_start_time ?? null,
    due: current?.due_at ?? null,
  };
}

export function activeStages(project: Project | undefined): StageDefinition[] {
  return (project?.stages ?? []).filter((stage) => !stage.archived);
}

/** The stages a ticket in `from` may move to: the project's transitions, or any other stage when it has none. */
export function allowedTargets(project: Project | undefined, from: string | null): StageDefinition[] {
  const stages = activeStages(project);
  const transitions = project?.transitions;
  if (!transitions) return stages.filter((stage) => stage.key !== from);
  const allowed = new Set(transitions.filter((t) => t.from === from).map((t) => t.to));
  return stages.filter((stage) => allowed.has(stage.key));
}
