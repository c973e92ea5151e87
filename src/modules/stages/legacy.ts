import { Type, type Static } from 'typebox';
import { isGoZero, legacyBody } from '../../http/legacy.js';
import { Nullable } from '../../http/schema-helpers.js';
import { presentStage } from './presenter.js';
import { Stage, stageFields, stageInputFields } from './schemas.js';
import type { StageWithMajor } from './service.js';

/** The monitoring system's stage: the API fields plus its major stage inlined. */
export const LegacyStageSchema = Type.Object({ ...stageFields, major_stage: Nullable(Stage) }, { $id: 'LegacyStage' });
export type LegacyStageOut = Static<typeof LegacyStageSchema>;
export const LegacyStage = Type.Unsafe<LegacyStageOut>({ $ref: 'LegacyStage#' });

export const LegacyStageInput = Type.Object({}, { additionalProperties: true, description: "A stage in the monitoring system's fields" });

export function presentLegacyStage(stage: StageWithMajor): LegacyStageOut {
  return { ...presentStage(stage), major_stage: stage.major_stage ? presentStage(stage.major_stage) : null };
}

/** An older client's stage body → the internal input; zero values (0, "", Go's zero time) mean "not set". */
export function fromLegacyStageInput(raw: unknown): Record<string, unknown> {
  const body = legacyBody(raw);
  const input: Record<string, unknown> = {};
  for (const field of stageInputFields) {
    const value = body[field];
    if (value === undefined || isGoZero(value) || (field === 'major_stage_id' && value === 0)) continue;
    input[field] = value;
  }
  return input;
}
