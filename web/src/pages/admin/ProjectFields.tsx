import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useEffect, useRef, useState, type FormEvent } from 'react';
import { api, dataOf } from '../../api/client';
import {
  fieldTypes,
  fromDraft,
  hasOptions,
  requiredLabel,
  toDraft,
  useFieldDefinitions,
  valueText,
  type Draft,
  type FieldDefinition,
  type FieldType,
} from '../../api/fields';
import { ApiError } from '../../api/http';
import type { Project } from '../../api/types';
import { LabelledField } from '../../components/FieldControl';
import { ErrorState, Loading } from '../../components/States';
import { activeStages } from '../../lib/workflow';
import { Table } from '../../components/Table';

type RequiredKind = 'optional' | 'always' | 'leave_stage' | 'final';
type Editor = {
  /** The key of the field being edited; undefined for a new one. */
  editing?: string;
  key: string;
  /** Whether the key still follows the label (a new field until the key is typed). */
  keyFromLabel: boolean;
  label: string;
  type: FieldType;
  options: string;
  default: Draft;
  help_text: string;
  customer_visible: boolean;
  required: RequiredKind;
  leave_stage: string;
  show_on_card: boolean;
};

const keyOf = (label: string) =>
  label
    .toLowerCase()
    .normalize('NFKD')
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^[^a-z]+/, '')
    .replace(/_+$/, '')
    .slice(0, 40);

const optionList = (text: string) =>
  text
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean);

function newEditor(): Editor {
  return {
    key: '',
    keyFromLabel: true,
    label: '',
    type: 'text',
    options: '',
    default: '',
    help_text: '',
    customer_visible: false,
    required: 'optional',
    leave_stage: '',
    show_on_card: false,
  };
}

function editorOf(field: FieldDefinition): Editor {
  const required = field.required;
  return {
    editing: field.key,
    key: field.key,
    keyFromLabel: false,
    label: field.label,
    type: field.type,
    options: (field.options ?? []).join('\n'),
    default: toDraft(field, field.default ?? null),
    help_text: field.help_text ?? '',
    customer_visible: field.customer_visible,
    required: !required ? 'optional' : typeof required === 'object' ? 'leave_stage' : required,
    leave_stage: required && typeof required === 'object' ? required.leave_stage : '',
    show_on_card: field.show_on_card,
  };
}

function bodyOf(editor: Editor) {
  const options = hasOptions(editor.type) ? optionList(editor.options) : null;
  return {
    label: editor.label.trim(),
    type: editor.type,
    options,
    default: fromDraft({ type: editor.type }, editor.default),
    help_text: editor.help_text.trim() || null,
    customer_visible: editor.customer_visible,
    required:
      editor.required === 'optional' ? null : editor.required === 'leave_stage' ? { leave_stage: editor.leave_stage } : editor.required,
    show_on_card: editor.show_on_card,
  };
}

/** The server's problem with one part of the definition (details name it as `label`, `body.label`, `required.leave_stage`…). */
function names(detailField: string, name: string): boolean {
  const field = detailField.replace(/^(body\.|\/)/, '').replace(/\//g, '.');
  return field === name || field.startsWith(`${name}.`) || field.startsWith(`${name}[`);
}
function problemWith(error: unknown, name: string): string | undefined {
  if (!(error instanceof ApiError)) return undefined;
  return error.details.find((detail) => names(detail.field, name))?.problem;
}
const parts = ['key', 'label', 'type', 'options', 'default', 'help_text', 'customer_visible', 'required', 'show_on_card', 'position'];

/**
 * Admin → Projects → Fields: the project's custom ticket fields, in order; add, edit, reorder and archive them.
 * Archiving keeps the definition (history naming it stays readable) and takes it off tickets' forms.
 */
export function ProjectFields({ project }: { project: Project }) {
  const queryClient = useQueryClient();
  const definitions = useFieldDefinitions(project.id, { archived: true });
  const [editor, setEditor] = useState<Editor | null>(null);
  const form = useRef<HTMLFormElement>(null);
  const stages = activeStages(project);
  const stageName = (key: string) => stages.find((stage) => stage.key === key)?.name ?? key;
  const refresh = () => queryClient.invalidateQueries({ queryKey: ['fields'] });

  const save = useMutation({
    mutationFn: (current: Editor) =>
      current.editing
        ? dataOf(
            api.PATCH('/api/projects/{id}/fields/{key}', {
              params: { path: { id: project.id, key: current.editing } },
              body: bodyOf(current),
            }),
          )
        : dataOf(
            api.POST('/api/projects/{id}/fields', {
              params: { path: { id: project.id } },
              body: { key: current.key, ...bodyOf(current), position: active.length },
            }),
          ),
    onSuccess: () => {
      setEditor(null);
      void refresh();
    },
  });
  const restore = useMutation({
    mutationFn: (key: string) =>
      api.PATCH('/api/projects/{id}/fields/{key}', { params: { path: { id: project.id, key } }, body: { archived: false } }),
    onSuccess: () => void refresh(),
  });
  const archive = useMutation({
    mutationFn: (key: string) => api.DELETE('/api/projects/{id}/fields/{key}', { params: { path: { id: project.id, key } } }),
    onSuccess: () => void refresh(),
  });
  const reorder = useMutation({
    mutationFn: async (order: FieldDefinition[]) => {
      for (const [position, field] of order.entries()) {
        if (field.position === position) continue;
        await api.PATCH('/api/projects/{id}/fields/{key}', { params: { path: { id: project.id, key: field.key } }, body: { position } });
      }
    },
    onSettled: () => void refresh(),
  });
  const { reset } = save;
  useEffect(() => {
    reset();
    setEditor(null);
  }, [project.id, reset]);
  // Focus the form's first control when it opens (or switches to another field), not on every keystroke.
  const opened = editor ? (editor.editing ?? '(new)') : null;
  useEffect(() => {
    if (opened !== null) form.current?.querySelector<HTMLElement>('input, select')?.focus();
  }, [opened]);

  if (definitions.isPending) return <Loading label="Loading the fields…" />;
  if (definitions.isError) return <ErrorState error={definitions.error} retry={() => void definitions.refetch()} />;
  const active = definitions.data.filter((field) => !field.archived_at);
  const archived = definitions.data.filter((field) => field.archived_at);
  const move = (index: number, by: -1 | 1) => {
    const order = [...active];
    [order[index], order[index + by]] = [order[index + by], order[index]];
    reorder.mutate(order);
  };
  const change = (changes: Partial<Editor>) => setEditor((current) => current && { ...current, ...changes });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (editor) save.mutate(editor);
  };
  const problem = (name: string) => problemWith(save.error, name);
  const otherProblems =
    save.error instanceof ApiError
      ? save.error.details.length === 0 || save.error.details.some((detail) => !parts.some((name) => names(detail.field, name)))
      : save.isError;

  return (
    <section className="card stack" aria-labelledby="fields-heading">
      <div className="card-head">
        <h2 id="fields-heading">Fields of {project.name}</h2>
        {!editor && (
          <button type="button" className="primary" onClick={() => setEditor(newEditor())}>
            Add field
          </button>
        )}
      </div>
      <p className="muted small">
        Custom ticket fields: shown and edited on the ticket page, asked for by the new-ticket dialog when always required, and asked for on
        a move when a stage requires them.
      </p>
      {active.length === 0 ? (
        <p className="muted">No fields yet.</p>
      ) : (
        <Table className="editor fields-table" headers={['Order', 'Label', 'Key', 'Type', 'Required', 'Customers', 'On cards']} actions>
          {active.map((field, index) => (
            <tr key={field.key}>
              <td>
                <button
                  type="button"
                  aria-label={`Move ${field.label} up`}
                  disabled={index === 0 || reorder.isPending}
                  onClick={() => move(index, -1)}
                >
                  ↑
                </button>
                <button
                  type="button"
                  aria-label={`Move ${field.label} down`}
                  disabled={index === active.length - 1 || reorder.isPending}
                  onClick={() => move(index, 1)}
                >
                  ↓
                </button>
              </td>
              <th scope="row">
                {field.label}
                {field.help_text && <div className="muted small">{field.help_text}</div>}
              </th>
              <td>
                <code>{field.key}</code>
              </td>
              <td>
                {fieldTypes.find((type) => type.type === field.type)?.label ?? field.type}
                {field.options && <div className="muted small">{field.options.join(', ')}</div>}
                {field.default !== null && field.default !== undefined && (
                  <div className="muted small">default: {valueText(field, field.default)}</div>
                )}
              </td>
              <td>{requiredLabel(field.required, stageName)}</td>
              <td>{field.customer_visible ? 'see and set' : 'hidden'}</td>
              <td>{field.show_on_card ? 'shown' : '—'}</td>
              <td>
                <div className="row-actions">
                  <button
                    type="button"
                    aria-label={`Edit field ${field.label}`}
                    onClick={() => {
                      save.reset();
                      setEditor(editorOf(field));
                    }}
                  >
                    Edit
                  </button>
                  <button
                    type="button"
                    aria-label={`Archive field ${field.label}`}
                    disabled={archive.isPending}
                    onClick={() => {
                      if (window.confirm(`Archive the field “${field.label}”? Tickets keep their values in history.`))
                        archive.mutate(field.key);
                    }}
                  >
                    Archive
                  </button>
                </div>
              </td>
            </tr>
          ))}
        </Table>
      )}
      {reorder.isError && <ErrorState error={reorder.error} />}
      {archive.isError && <ErrorState error={archive.error} />}
      {restore.isError && <ErrorState error={restore.error} />}
      {archived.length > 0 && (
        <details>
          <summary>Archived fields ({archived.length})</summary>
          <ul>
            {archived.map((field) => (
              <li key={field.key}>
                {field.label} <code>{field.key}</code> <span className="muted small">{field.type}</span>{' '}
                <button type="button" className="link" disabled={restore.isPending} onClick={() => restore.mutate(field.key)}>
                  Restore
                </button>
              </li>
            ))}
          </ul>
        </details>
      )}

      {editor && (
        <form ref={form} className="stack field-editor" onSubmit={submit} aria-labelledby="field-editor-title" noValidate>
          <h3 id="field-editor-title">{editor.editing ? `Edit field “${editor.label || editor.key}”` : 'New field'}</h3>
          <div className="row">
            <Labelled id="field-label" label="Label" problem={problem('label')}>
              <input
                id="field-label"
                value={editor.label}
                required
                maxLength={200}
                aria-invalid={problem('label') ? true : undefined}
                aria-describedby={problem('label') ? 'field-label-error' : undefined}
                onChange={(event) =>
                  change({ label: event.target.value, ...(editor.keyFromLabel ? { key: keyOf(event.target.value) } : {}) })
                }
              />
            </Labelled>
            <Labelled
              id="field-key"
              label="Key"
              problem={problem('key')}
              help="Used in search (field.key:value), the API and exports; fixed once created."
            >
              <input
                id="field-key"
                value={editor.key}
                required
                readOnly={Boolean(editor.editing)}
                pattern="[a-z][a-z0-9_]*"
                maxLength={40}
                className="mono"
                aria-invalid={problem('key') ? true : undefined}
                aria-describedby={['field-key-help', problem('key') ? 'field-key-error' : ''].filter(Boolean).join(' ')}
                onChange={(event) => change({ key: event.target.value, keyFromLabel: false })}
              />
            </Labelled>
            <Labelled
              id="field-type"
              label="Type"
              problem={problem('type')}
              help={editor.editing ? 'A change is refused while stored values would not convert.' : undefined}
            >
              <select
                id="field-type"
                value={editor.type}
                aria-invalid={problem('type') ? true : undefined}
                aria-describedby={
                  [editor.editing ? 'field-type-help' : '', problem('type') ? 'field-type-error' : ''].filter(Boolean).join(' ') ||
                  undefined
                }
                onChange={(event) => {
                  const type = event.target.value as FieldType;
                  change({ type, default: toDraft({ type }, fromDraft({ type: editor.type }, editor.default)) });
                }}
              >
                {fieldTypes.map((type) => (
                  <option key={type.type} value={type.type}>
                    {type.label}
                  </option>
                ))}
              </select>
            </Labelled>
          </div>
          {hasOptions(editor.type) && (
            <Labelled id="field-options" label="Options" problem={problem('options')} help="One per line, in the order offered.">
              <textarea
                id="field-options"
                rows={4}
                value={editor.options}
                aria-invalid={problem('options') ? true : undefined}
                aria-describedby={['field-options-help', problem('options') ? 'field-options-error' : ''].filter(Boolean).join(' ')}
                onChange={(event) => change({ options: event.target.value })}
              />
            </Labelled>
          )}
          <LabelledField
            definition={{
              key: 'default',
              label: 'Default',
              type: editor.type,
              options: hasOptions(editor.type) ? optionList(editor.options) : null,
              default: null,
              help_text: 'Prefilled on new tickets.',
              customer_visible: false,
              position: 0,
              required: null,
              show_on_card: false,
              archived_at: null,
              created_at: '',
              updated_at: '',
            }}
            id="field-default"
            draft={editor.default}
            onChange={(draft) => change({ default: draft })}
            problem={problem('default')}
          />
          <Labelled id="field-help" label="Help text" problem={problem('help_text')}>
            <input
              id="field-help"
              value={editor.help_text}
              maxLength={500}
              aria-invalid={problem('help_text') ? true : undefined}
              aria-describedby={problem('help_text') ? 'field-help-error' : undefined}
              onChange={(event) => change({ help_text: event.target.value })}
            />
          </Labelled>
          <div className="row">
            <Labelled id="field-required" label="Required" problem={problem('required')}>
              <select
                id="field-required"
                value={editor.required}
                aria-invalid={problem('required') ? true : undefined}
                aria-describedby={problem('required') ? 'field-required-error' : undefined}
                onChange={(event) => {
                  const required = event.target.value as RequiredKind;
                  change({ required, leave_stage: required === 'leave_stage' ? editor.leave_stage || (stages[0]?.key ?? '') : '' });
                }}
              >
                <option value="optional">Optional</option>
                <option value="always">Always</option>
                <option value="leave_stage">To leave a stage</option>
                <option value="final">To enter a final stage</option>
              </select>
            </Labelled>
            {editor.required === 'leave_stage' && (
              <Labelled id="field-leave-stage" label="Stage to leave" problem={problem('required.leave_stage')}>
                <select
                  id="field-leave-stage"
                  value={editor.leave_stage}
                  required
                  aria-invalid={problem('required.leave_stage') ? true : undefined}
                  aria-describedby={problem('required.leave_stage') ? 'field-leave-stage-error' : undefined}
                  onChange={(event) => change({ leave_stage: event.target.value })}
                >
                  {stages.map((stage) => (
                    <option key={stage.key} value={stage.key}>
                      {stage.parent ? '↳ ' : ''}
                      {stage.name}
                    </option>
                  ))}
                </select>
              </Labelled>
            )}
          </div>
          <div className="row">
            <label className="check">
              <input
                type="checkbox"
                checked={editor.customer_visible}
                onChange={(event) => change({ customer_visible: event.target.checked })}
              />{' '}
              Customers may see and set it
            </label>
            <label className="check">
              <input type="checkbox" checked={editor.show_on_card} onChange={(event) => change({ show_on_card: event.target.checked })} />{' '}
              Show on board cards
            </label>
          </div>
          {otherProblems && <ErrorState error={save.error} />}
          <div className="actions">
            <button type="button" onClick={() => setEditor(null)}>
              Cancel
            </button>
            <button type="submit" className="primary" disabled={save.isPending}>
              {save.isPending ? 'Saving…' : editor.editing ? 'Save field' : 'Add field'}
            </button>
          </div>
        </form>
      )}
    </section>
  );
}

/** A label above its control, with optional help and the server's problem under it (ids `${id}-help`, `${id}-error`). */
function Labelled({
  id,
  label,
  problem,
  help,
  children,
}: {
  id: string;
  label: string;
  problem?: string;
  help?: string;
  children: React.ReactNode;
}) {
  return (
    <div className="field-input">
      <label className="field-label" htmlFor={id}>
        {label}
      </label>
      {children}
      {help && (
        <span id={`${id}-help`} className="muted small">
          {help}
        </span>
      )}
      {problem && (
        <span id={`${id}-error`} className="field-error" role="alert">
          {problem}
        </span>
      )}
    </div>
  );
}
