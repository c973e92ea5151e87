import type { Actor } from '../access/policy.js';
import { presentStage } from '../stages/presenter.js';
import { stageFields } from '../stages/schemas.js';
import type { StageListOptions, StagesService } from '../stages/service.js';
import { chooseColumns, EXPORT_PAGE, streamExport, type ExportSettings } from './stream.js';

/** Every field of a stage answer, in its order (`stages/schemas.ts`). */
export const stageExportColumns = Object.keys(stageFields) as (keyof typeof stageFields)[];

export type StageExportOptions = ExportSettings & { list: Omit<StageListOptions, 'limit' | 'cursor' | 'count'> };

/** Every matching stage record (start, end, due: a spreadsheet's Gantt), with the stage list's filters and visibility. */
export async function exportStages(stages: StagesService, actor: Actor, options: StageExportOptions) {
  const columns = chooseColumns(options.columns, stageExportColumns, stageExportColumns);
  const page = async (cursor?: string) => {
    const result = await stages.list(actor, { ...options.list, limit: EXPORT_PAGE, ...(cursor ? { cursor } : {}) });
    return { items: result.items.map((stage) => presentStage(stage)), nextCursor: result.nextCursor };
  };
  return streamExport(options, columns, ['stage_start_time', 'stage_end_time', 'due_at', 'created_at', 'updated_at'], await page(), page);
}
