import { useQuery } from '@tanstack/react-query';
import type { KeyboardEvent, ReactNode } from 'react';
import { api, dataOf } from '../api/client';
import { isSet, valueText, type Draft, type FieldDefinition } from '../api/fields';
import { useCan } from '../api/session';

/** The people a `user` field can name; only admins may list users, others type an e-mail or id. */
export function useUserChoices() {
  const mayListUsers = useCan('user:read');
  const users = useQuery({
    enabled: mayListUsers,
    queryKey: ['users', 'choices'],
    queryFn: () => dataOf(api.GET('/api/users', { params: { query: { limit: 200 } } })),
    staleTime: 5 * 60_000,
  });
  const list = users.data ?? [];
  const name = (id: string) => {
    const user = list.find((candidate) => candidate.id === id || candidate.email === id);
    return user ? `${user.name} (${user.email})` : undefined;
  };
  return { users: list, known: users.isSuccess, name };
}

type ControlProps = {
  definition: FieldDefinition;
  draft: Draft;
  onChange(draft: Draft): void;
  /** The control's id; its label must point at it (or at the group for a multi-select). */
  id: string;
  /** The problem the server named for this field, shown by the caller under `${id}-error`. */
  problem?: string;
  autoFocus?: boolean;
  onKeyDown?(event: KeyboardEvent): void;
  /** The field must have a value here (a required field or a gate). */
  required?: boolean;
};

/** Ids of the help text and the error under a control, for aria-describedby. */
const describedBy = (id: string, definition: FieldDefinition, problem?: string) =>
  [definition.help_text ? `${id}-help` : '', problem ? `${id}-error` : ''].filter(Boolean).join(' ') || undefined;

/** The input for one custom field, by its type; the label is the caller's (see LabelledField). */
export function FieldControl({ definition, draft, onChange, id, problem, autoFocus, onKeyDown, required }: ControlProps) {
  const { users, known } = useUserChoices();
  const common = {
    id,
    autoFocus,
    onKeyDown,
    'aria-invalid': problem ? true : undefined,
    'aria-describedby': describedBy(id, definition, problem),
    'aria-required': required || undefined,
  };
  const text = typeof draft === 'string' ? draft : '';
  const setText = (event: { target: { value: string } }) => onChange(event.target.value);
  switch (definition.type) {
    case 'long_text':
      return <textarea {...common} rows={4} value={text} onChange={setText} />;
    case 'number':
      return <input {...common} type="number" step="any" value={text} onChange={setText} />;
    case 'date':
      return <input {...common} type="date" value={text} onChange={setText} />;
    case 'datetime':
      return <input {...common} type="datetime-local" value={text} onChange={setText} />;
    case 'url':
      return <input {...common} type="url" value={text} onChange={setText} placeholder="https://…" />;
    case 'email':
      return <input {...common} type="email" value={text} onChange={setText} />;
    case 'checkbox':
      return <input {...common} type="checkbox" checked={draft === true} onChange={(event) => onChange(event.target.checked)} />;
    case 'select': {
      const options = definition.options ?? [];
      return (
        <select {...common} value={text} onChange={setText}>
          <option value="">{required ? 'Choose…' : '—'}</option>
          {options.map((option) => (
            <option key={option} value={option}>
              {option}
            </option>
          ))}
          {text && !options.includes(text) && <option value={text}>{text} (no longer offered)</option>}
        </select>
      );
    }
    case 'multi_select': {
      const chosen = Array.isArray(draft) ? draft : [];
      const options = [...(definition.options ?? []), ...chosen.filter((value) => !(definition.options ?? []).includes(value))];
      return (
        <div
          role="group"
          id={id}
          className="choices"
          aria-labelledby={`${id}-label`}
          aria-describedby={common['aria-describedby']}
          aria-invalid={common['aria-invalid']}
        >
          {options.map((option, index) => (
            <label key={option} className="check">
              <input
                type="checkbox"
                autoFocus={autoFocus && index === 0}
                onKeyDown={onKeyDown}
                checked={chosen.includes(option)}
                onChange={(event) => onChange(event.target.checked ? [...chosen, option] : chosen.filter((value) => value !== option))}
              />{' '}
              {option}
            </label>
          ))}
        </div>
      );
    }
    case 'user':
      if (known) {
        return (
          <select {...common} value={text} onChange={setText}>
            <option value="">{required ? 'Choose…' : '—'}</option>
            {users.map((user) => (
              <option key={user.id} value={user.id}>
                {user.name} ({user.email})
              </option>
            ))}
            {text && !users.some((user) => user.id === text) && <option value={text}>{text}</option>}
          </select>
        );
      }
      return <input {...common} value={text} onChange={setText} placeholder="user id" />;
    default:
      return <input {...common} type="text" value={text} onChange={setText} />;
  }
}

/**
 * A field's label, control, help text and the server's problem with it, stacked. A multi-select is a group of
 * checkboxes named by the label; every other control is named by its `<label>`.
 */
export function LabelledField(props: ControlProps & { extra?: ReactNode }) {
  const { definition, id, problem, required, extra } = props;
  const title = (
    <>
      {definition.label}
      {required && <span aria-hidden="true"> *</span>}
    </>
  );
  return (
    <div className={`field-input type-${definition.type}`}>
      {definition.type === 'multi_select' ? (
        <span className="field-label" id={`${id}-label`}>
          {title}
        </span>
      ) : definition.type === 'checkbox' ? null : (
        <label className="field-label" htmlFor={id} id={`${id}-label`}>
          {title}
        </label>
      )}
      {definition.type === 'checkbox' ? (
        <label className="check" id={`${id}-label`}>
          <FieldControl {...props} /> {title}
        </label>
      ) : (
        <FieldControl {...props} />
      )}
      {extra}
      {definition.help_text && (
        <span id={`${id}-help`} className="muted small">
          {definition.help_text}
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

/** A field's value for reading: links for URLs and e-mails, Yes/No for a checkbox, dates in the viewer's zone. */
export function FieldValue({ definition, value }: { definition: FieldDefinition; value: unknown }) {
  const { name } = useUserChoices();
  if (!isSet(value) && definition.type !== 'checkbox') return <span className="muted">—</span>;
  const text = valueText(definition, value, name);
  if (definition.type === 'url' && typeof value === 'string' && /^https?:\/\//i.test(value)) {
    return (
      <a href={value} target="_blank" rel="noreferrer noopener">
        {value}
      </a>
    );
  }
  if (definition.type === 'email' && typeof value === 'string') return <a href={`mailto:${value}`}>{value}</a>;
  if (definition.type === 'datetime' && typeof value === 'string') return <time dateTime={value}>{text}</time>;
  if (definition.type === 'long_text') return <span className="prewrap">{text}</span>;
  return <span>{text}</span>;
}
