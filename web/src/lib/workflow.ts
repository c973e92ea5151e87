import type { Project, StageDefinition } from '../api/types';

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
