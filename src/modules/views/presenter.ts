import type { SavedViewRow } from '../../db/types.js';
import { canChangeView, type Actor } from '../access/policy.js';
import type { ViewColumn, ViewOut } from './schemas.js';

export function presentView(view: SavedViewRow, actor: Actor): ViewOut {
  return {
    id: view.id,
    name: view.name,
    query: view.query,
    sort: view.sort as ViewOut['sort'],
    columns: view.columns as ViewColumn[],
    layout: view.layout,
    shared: view.shared,
    owner_id: view.owner_id,
    mine: actor.id !== null && actor.id === view.owner_id,
    changeable: canChangeView(actor, view),
    created_at: view.created_at.toISOString(),
    updated_at: view.updated_at.toISOString(),
    version: view.version,
  };
}
