import { Type, type Static } from 'typebox';
import { DateTime, Nullable } from '../../http/schema-helpers.js';

export const StageTypeSchema = Type.Enum(['major', 'minor']);
export const StageStateSchema = Type.Enum(['planned', 'active', 'done']);

export const stageFields = {
  id: Type.String(),
  number: Type.Integer({ description: 'Sequential number; `/api/stages/7` finds it too' }),
  stage_type: StageTypeSchema,
  major_stage_id: Nullable(Type.String()),
  stage_description: Nullable(Type.String()),
  stage_start_time: Nullable(DateTime()),
  stage_end_time: Nullable(DateTime()),
  due_at: Nullable(DateTime('Target time; past it while not done (or done after it) is overdue')),
  contact_emails: Type.Array(Type.String()),
  ticket_ids: Type.Array(Type.String(), { description: 'Tickets that list this stage (read-only)' }),
  state: StageStateSchema,
  overdue: Type.Boolean(),
  created_at: DateTime(),
  updated_at: DateTime(),
  version: Type.Integer(),
};

export const StageSchema = Type.Object(stageFields, { $id: 'Stage' });
export type StageOut = Static<typeof StageSchema>;
export const Stage = Type.Unsafe<StageOut>({ $ref: 'Stage#' });

const StageRefSchema = Type.Union([Type.String(), Type.Integer({ minimum: 1 })], { description: 'A stage id, or a stage number' });

const editable = {
  stage_type: Type.Optional(StageTypeSchema),
  major_stage_id: Type.Optional(Nullable(StageRefSchema)),
  stage_description: Type.Optional(Nullable(Type.String({ maxLength: 2000 }))),
  stage_start_time: Type.Optional(Nullable(DateTime())),
  stage_end_time: Type.Optional(Nullable(DateTime())),
  due_at: Type.Optional(Nullable(DateTime())),
  contact_emails: Type.Optional(Nullable(Type.Array(Type.String(), { maxItems: 50 }))),
};

/** What a stage body may set (an older client's too, `stages/legacy.ts`): the editable fields and the version. */
export const stageInputFields = [...Object.keys(editable), 'version'];

const ignored = Object.fromEntries(
  ['id', 'number', 'ticket_ids', 'state', 'overdue', 'created_at', 'updated_at', 'major_stage'].map((field) => [
    field,
    Type.Optional(Type.Unknown()),
  ]),
);

export const StageCreate = Type.Object(
  { ...editable, ...ignored, version: Type.Optional(Type.Unknown()) },
  { additionalProperties: false },
);
export const StagePatch = Type.Object(
  { ...editable, ...ignored, version: Type.Optional(Type.Integer({ minimum: 1 })) },
  { additionalProperties: false },
);

export const stageSortValues = ['created_at', '-created_at', 'updated_at', '-updated_at', 'number', '-number'] as const;

export const stageFilterQuery = {
  stage_type: Type.Optional(StageTypeSchema),
  major_stage_id: Type.Optional(Type.String()),
  ticket_id: Type.Optional(Type.String()),
  state: Type.Optional(StageStateSchema),
  overdue: Type.Optional(Type.Boolean()),
  started_from: Type.Optional(DateTime()),
  started_to: Type.Optional(DateTime()),
  sort: Type.Optional(Type.Enum([...stageSortValues], { default: '-created_at' })),
  cursor: Type.Optional(Type.String()),
  count: Type.Optional(Type.Boolean()),
};

export const StageListQuery = Type.Object(
  { ...stageFilterQuery, limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 50 })) },
  { additionalProperties: false },
);

export const DeleteStageQuery = Type.Object(
  { cascade: Type.Optional(Type.Boolean({ description: 'Also delete its minor stages' })) },
  { additionalProperties: false },
);
