import { useState, type KeyboardEvent } from 'react';
import { ApiError } from '../../api/http';
import { priorities, statuses, type Ticket } from '../../api/types';
import { Time } from '../../components/Time';
import shape from '../../api/ticket-fields.json';
import { fieldLabel, fieldValue, humanize, statusLabel } from '../../lib/format';
import { useTicketSave } from './save';

type Field = {
  key: keyof Ticket & string;
  label: string;
  kind?: 'text' | 'textarea' | 'email' | 'url' | 'select';
  options?: readonly string[];
  internal?: boolean;
  required?: boolean;
};

/** The ticket page's fields, in its order; labels and which are internal come from the server's field table. */
const controls: [Field['key'], Pick<Field, 'kind' | 'options' | 'required'>?][] = [
  ['subject'],
  ['description', { kind: 'textarea' }],
  ['status', { kind: 'select', options: statuses, required: true }],
  ['priority', { kind: 'select', options: priorities, required: true }],
  ['project'],
  ['category'],
  ['customer_name'],
  ['customer_email', { kind: 'email' }],
  ['customer_phone'],
  ['contact_person'],
  ['assigned_to'],
  ['helpdeskurl', { kind: 'url' }],
];
const fields: Field[] = controls.map(([key, control]) => ({
  key,
  label: fieldLabel(key),
  ...(shape.fields[key as keyof typeof shape.fields]?.internal ? { internal: true } : {}),
  ...control,
}));

/** The ticket's fields; each can be edited in place (Enter saves, Escape cancels) with a version check. */
export function Fields({ ticket, editable, internal }: { ticket: Ticket; editable: boolean; internal: boolean }) {
  return (
    <dl className="fields">
      {fields
        .filter((field) => internal || !field.internal)
        .map((field) => (
          <FieldRow key={field.key} field={field} ticket={ticket} editable={editable} />
        ))}
      <dt>Created</dt>
      <dd>
        <Time iso={ticket.created_at} />
      </dd>
      <dt>Updated</dt>
      <dd>
        <Time iso={ticket.updated_at} />
      </dd>
      {ticket.closed_at && (
        <>
          <dt>Closed</dt>
          <dd>
            <Time iso={ticket.closed_at} />
          </dd>
        </>
      )}
    </dl>
  );
}

function FieldRow({ field, ticket, editable }: { field: Field; ticket: Ticket; editable: boolean }) {
  const current = (ticket[field.key] as string | null | undefined) ?? '';
  const [draft, setDraft] = useState<string | null>(null);
  const save = useTicketSave(ticket, () => setDraft(null));
  const submit = (value: string) => save.mutate({ [field.key]: value === '' && !field.required ? null : value });
  const id = `field-${field.key}`;
  const onKey = (event: KeyboardEvent) => {
    if (event.key === 'Escape') setDraft(null);
    if (event.key === 'Enter' && (field.kind !== 'textarea' || event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      submit(draft ?? '');
    }
  };

  if (draft === null) {
    return (
      <>
        <dt id={`${id}-label`}>{field.label}</dt>
        <dd className="editable">
          <span className={field.kind === 'textarea' ? 'prewrap' : undefined}>
            {field.kind === 'url' && current ? (
              <a href={current} target="_blank" rel="noreferrer noopener">
                {current}
              </a>
            ) : (
              (current && fieldValue(field.key, current)) || <span className="muted">—</span>
            )}
          </span>
          {editable && (
            <button type="button" className="link edit" aria-label={`Edit ${field.label}`} onClick={() => setDraft(current)}>
              Edit
            </button>
          )}
        </dd>
      </>
    );
  }
  const common = {
    id,
    value: draft,
    autoFocus: true,
    onKeyDown: onKey,
    'aria-labelledby': `${id}-label`,
    onChange: (event: { target: { value: string } }) => setDraft(event.target.value),
  };
  return (
    <>
      <dt id={`${id}-label`}>{field.label}</dt>
      <dd className="editing">
        <form
          onSubmit={(event) => {
            event.preventDefault();
            submit(draft);
          }}
        >
          {field.kind === 'textarea' ? (
            <textarea rows={4} {...common} />
          ) : field.kind === 'select' ? (
            <select {...common}>
              {field.options!.map((option) => (
                <option key={option} value={option}>
                  {field.key === 'status' ? statusLabel(option) : humanize(option)}
                </option>
              ))}
            </select>
          ) : (
            <input type={field.kind ?? 'text'} {...common} />
          )}
          <button type="submit" className="primary" disabled={save.isPending}>
            Save
          </button>
          <button type="button" onClick={() => setDraft(null)}>
            Cancel
          </button>
          {save.isError && (
            <p className="form-error" role="alert">
              {save.error instanceof ApiError && save.error.status === 412
                ? 'Someone changed this ticket meanwhile; the latest version is shown. Save again to overwrite.'
                : save.error.message}
            </p>
          )}
        </form>
      </dd>
    </>
  );
}
