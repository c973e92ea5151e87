import { useState, type KeyboardEvent } from 'react';
import { useTicketSave } from './save';
import {
  activeFields,
  fieldProblems,
  fieldsOf,
  fromDraft,
  requiredLabel,
  toDraft,
  useFieldDefinitions,
  type Draft,
  type FieldDefinition,
} from '../../api/fields';
import { ApiError } from '../../api/http';
import type { Project, Ticket } from '../../api/types';
import { FieldControl, FieldValue } from '../../components/FieldControl';

/**
 * The project's custom fields on the ticket page, each edited in place with the control its type needs (Enter
 * saves, Escape cancels, version-checked). Customers get only the fields marked for them: the server leaves the
 * others out, and a field without a definition the viewer may read is shown by its key as text.
 */
export function CustomFields({
  ticket,
  project,
  editable,
  internal,
}: {
  ticket: Ticket;
  project: Project | undefined;
  editable: boolean;
  /** Staff see archived fields' values too (read-only); customers only the fields marked for them. */
  internal: boolean;
}) {
  const definitions = useFieldDefinitions(project?.id ?? ticket.project ?? undefined, { archived: internal });
  const values = fieldsOf(ticket);
  const known = activeFields(definitions.data);
  const knownKeys = new Set((definitions.data ?? []).map((definition) => definition.key));
  // Values whose definition the viewer cannot read (or that was archived): shown read-only, as text.
  const others = Object.keys(values)
    .filter((key) => !known.some((definition) => definition.key === key))
    .map(
      (key): FieldDefinition =>
        (definitions.data ?? []).find((definition) => definition.key === key) ?? {
          key,
          label: key,
          type: Array.isArray(values[key]) ? 'multi_select' : typeof values[key] === 'boolean' ? 'checkbox' : 'text',
          options: null,
          default: null,
          help_text: null,
          customer_visible: true,
          position: Number.MAX_SAFE_INTEGER,
          required: null,
          show_on_card: false,
          archived_at: null,
          created_at: '',
          updated_at: '',
        },
    );
  if (known.length === 0 && others.length === 0) return null;
  const stageName = (key: string) => project?.stages.find((stage) => stage.key === key)?.name ?? key;
  return (
    <section className="card" aria-labelledby="custom-fields-title">
      <h2 id="custom-fields-title">Fields</h2>
      <dl className="fields custom-fields">
        {known.map((definition) => (
          <CustomFieldRow
            key={definition.key}
            definition={definition}
            ticket={ticket}
            value={values[definition.key]}
            editable={editable}
            note={definition.required ? `Required ${requiredLabel(definition.required, stageName)}` : undefined}
          />
        ))}
        {others.map((definition) => (
          <CustomFieldRow
            key={definition.key}
            definition={definition}
            ticket={ticket}
            value={values[definition.key]}
            editable={false}
            note={knownKeys.has(definition.key) ? 'Archived field' : undefined}
          />
        ))}
      </dl>
    </section>
  );
}

function CustomFieldRow({
  definition,
  ticket,
  value,
  editable,
  note,
}: {
  definition: FieldDefinition;
  ticket: Ticket;
  value: unknown;
  editable: boolean;
  note?: string;
}) {
  const [draft, setDraft] = useState<Draft | null>(null);
  const save = useTicketSave(ticket, () => setDraft(null));
  const submit = (next: Draft) => save.mutate({ fields: { [definition.key]: fromDraft(definition, next) } });
  const id = `custom-field-${definition.key}`;
  const onKey = (event: KeyboardEvent) => {
    if (event.key === 'Escape') {
      event.preventDefault();
      setDraft(null);
    }
    if (event.key === 'Enter' && draft !== null && (definition.type !== 'long_text' || event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      submit(draft);
    }
  };
  const problem = save.isError
    ? save.error instanceof ApiError && save.error.status === 412
      ? 'Someone changed this ticket meanwhile; the latest version is shown. Save again to overwrite.'
      : (fieldProblems(save.error).get(definition.key) ?? save.error.message)
    : undefined;

  return (
    <>
      <dt id={`${id}-label`}>
        {definition.type === 'multi_select' || draft === null ? definition.label : <label htmlFor={id}>{definition.label}</label>}
        {note && <span className="muted small field-note">{note}</span>}
      </dt>
      {draft === null ? (
        <dd className="editable">
          <FieldValue definition={definition} value={value} />
          {editable && (
            <button
              type="button"
              className="link edit"
              aria-label={`Edit ${definition.label}`}
              onClick={() => {
                save.reset();
                setDraft(toDraft(definition, value));
              }}
            >
              Edit
            </button>
          )}
        </dd>
      ) : (
        <dd className="editing">
          <form
            onSubmit={(event) => {
              event.preventDefault();
              submit(draft);
            }}
          >
            <FieldControl definition={definition} draft={draft} onChange={setDraft} id={id} problem={problem} autoFocus onKeyDown={onKey} />
            <button type="submit" className="primary" disabled={save.isPending}>
              Save
            </button>
            <button type="button" onClick={() => setDraft(null)}>
              Cancel
            </button>
          </form>
          {definition.help_text && (
            <p id={`${id}-help`} className="muted small">
              {definition.help_text}
            </p>
          )}
          {problem && (
            <p id={`${id}-error`} className="form-error" role="alert">
              {problem}
            </p>
          )}
        </dd>
      )}
    </>
  );
}
