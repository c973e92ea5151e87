import { useCallback, useMemo, useState } from 'react';
import { useSearchParams } from 'react-router';
import { activeFields, useFieldDefinitions, type FieldDefinition } from '../../api/fields';

const prefix = 'field.';

/** Custom field filters kept in the URL as `field.<key>=value` (the list API takes the same parameters). */
export function useFieldFilters() {
  const [params, setParams] = useSearchParams();
  const text = params.toString();
  const values = useMemo(
    () =>
      Object.fromEntries(
        [...new URLSearchParams(text)].filter(([key, value]) => key.startsWith(prefix) && value !== '').map(([key, value]) => [key, value]),
      ) as Record<string, string>,
    [text],
  );
  const set = useCallback(
    (changes: Record<string, string>) =>
      setParams(
        (current) => {
          const next = new URLSearchParams(current);
          for (const [key, value] of Object.entries(changes)) {
            if (value) next.set(key, value);
            else next.delete(key);
          }
          return next;
        },
        { replace: true },
      ),
    [setParams],
  );
  /** Drops every field filter (another project has other fields). */
  const clear = useCallback(() => set(Object.fromEntries(Object.keys(values).map((key) => [key, '']))), [set, values]);
  return { values, set, clear };
}

/** The fields a filter control is offered for: a fixed set of values to choose from. */
const filterable = (definition: FieldDefinition) =>
  definition.type === 'select' || definition.type === 'multi_select' || definition.type === 'checkbox';

/**
 * A drop-down per choice field of the chosen project (select, multi-select, checkbox); any field can also be
 * searched in the box with `field.<key>:value`, `field.<key>>3` or `field.<key>:<2026-12-01`.
 */
export function FieldFilters({
  project,
  values,
  onChange,
}: {
  project: string;
  values: Record<string, string>;
  onChange(changes: Record<string, string>): void;
}) {
  const definitions = useFieldDefinitions(project || undefined);
  const shown = activeFields(definitions.data).filter(filterable);
  return (
    <>
      {shown.map((definition) => {
        const name = `${prefix}${definition.key}`;
        const value = values[name] ?? '';
        const options = definition.type === 'checkbox' ? ['true', 'false'] : (definition.options ?? []);
        return (
          <label key={definition.key}>
            {definition.label}
            <select value={value} onChange={(event) => onChange({ [name]: event.target.value })}>
              <option value="">Any</option>
              {options.map((option) => (
                <option key={option} value={option}>
                  {definition.type === 'checkbox' ? (option === 'true' ? 'Yes' : 'No') : option}
                </option>
              ))}
              {value && !options.includes(value) && <option value={value}>{value}</option>}
            </select>
          </label>
        );
      })}
    </>
  );
}

/** The custom field columns the viewer shows for a project, kept in this browser (one choice per project). */
export function useFieldColumns(project: string) {
  const storageKey = `stageline.field-columns.${project}`;
  const read = () => {
    try {
      const saved = JSON.parse(localStorage.getItem(storageKey) ?? '[]') as unknown;
      return Array.isArray(saved) ? saved.filter((key): key is string => typeof key === 'string') : [];
    } catch {
      return [];
    }
  };
  const [state, setState] = useState<{ project: string; keys: string[] }>(() => ({ project, keys: project ? read() : [] }));
  // Another project: its own choice.
  const keys = state.project === project ? state.keys : project ? read() : [];
  const toggle = (key: string) => {
    const next = keys.includes(key) ? keys.filter((k) => k !== key) : [...keys, key];
    setState({ project, keys: next });
    localStorage.setItem(storageKey, JSON.stringify(next));
  };
  return [keys, toggle] as const;
}

/** The project's fields as list columns: those chosen, in the project's order (then any the project does not define). */
export function useFieldColumnDefinitions(project: string, chosen: readonly string[]) {
  const definitions = useFieldDefinitions(project || undefined);
  const all = activeFields(definitions.data);
  // A saved view may name a field of a project not picked here: shown by its key, its value as text.
  const unknown = chosen.filter((key) => !all.some((definition) => definition.key === key));
  const fallback = unknown.map((key) => ({ key, label: key, type: 'text', options: null }) as unknown as (typeof all)[number]);
  return { all, shown: [...all.filter((definition) => chosen.includes(definition.key)), ...fallback] };
}
