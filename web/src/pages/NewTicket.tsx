import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useRef, useState, type FormEvent } from 'react';
import { useNavigate } from 'react-router';
import { api, dataOf } from '../api/client';
import { ApiError } from '../api/http';
import { activeFields, fieldProblems, fromDraft, toDraft, useFieldDefinitions, type Draft } from '../api/fields';
import { useCan } from '../api/session';
import type { RequestBody } from '../api/types';
import { ErrorState } from '../components/States';
import { LabelledField } from '../components/FieldControl';
import { ProjectSelect, useProjects } from '../components/Filters';

/**
 * "New ticket" button and dialog; customers open tickets for themselves. Staff pick a real project (the one the
 * list is filtered to, else the first), and may set its category and assignee at once.
 */
export function NewTicket({ project: preferred = '' }: { project?: string }) {
  const dialog = useRef<HTMLDialogElement>(null);
  const staff = useCan('project:read');
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const projects = useProjects(staff);
  const [chosen, setProject] = useState('');
  const keys = (projects.data ?? []).map((candidate) => candidate.key);
  const project = keys.includes(chosen) ? chosen : keys.includes(preferred) ? preferred : (keys[0] ?? '');
  const projectId = projects.data?.find((candidate) => candidate.key === project)?.id;
  const definitions = useFieldDefinitions(projectId);
  // The chosen project's fields that every ticket must have, started from their defaults.
  const asked = activeFields(definitions.data).filter((definition) => definition.required === 'always');
  const [drafts, setDrafts] = useState<Record<string, Draft>>({});
  const draftOf = (definition: (typeof asked)[number]) => drafts[definition.key] ?? toDraft(definition, definition.default ?? null);
  const create = useMutation({
    mutationFn: (body: RequestBody<'/api/tickets', 'post'>) => dataOf(api.POST('/api/tickets', { body })),
    onSuccess: (ticket) => {
      dialog.current?.close();
      setDrafts({});
      void queryClient.invalidateQueries();
      void navigate(`/tickets/${encodeURIComponent(ticket.id)}`);
    },
  });
  const problems = fieldProblems(create.error);
  // Problems with the fields asked here are shown by their controls; anything else above the buttons.
  const onlyFieldProblems =
    create.error instanceof ApiError &&
    create.error.details.length > 0 &&
    create.error.details.every((detail) => asked.some((definition) => detail.field === `fields.${definition.key}`));

  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = Object.fromEntries(new FormData(event.currentTarget)) as Record<string, string>;
    // Custom field controls carry no name: their values go under `fields`, typed, not as form text.
    const body = Object.fromEntries(Object.entries({ ...form, project }).filter(([, value]) => value !== ''));
    const fields = Object.fromEntries(asked.map((definition) => [definition.key, fromDraft(definition, draftOf(definition))]));
    create.mutate(asked.length > 0 ? { ...body, fields } : body);
  }

  return (
    <>
      <button type="button" className="primary" onClick={() => dialog.current?.showModal()}>
        New ticket
      </button>
      <dialog ref={dialog} aria-labelledby="new-ticket-title">
        <form onSubmit={submit} className="stack">
          <h2 id="new-ticket-title">New ticket</h2>
          <label>
            Subject
            <input name="subject" required maxLength={500} />
          </label>
          <label>
            Description
            <textarea name="description" rows={4} />
          </label>
          {staff && (
            <>
              <ProjectSelect value={project} onChange={setProject} allowAll={false} />
              <label>
                Category
                <input name="category" maxLength={200} />
              </label>
              <label>
                Assignee
                <input name="assigned_to" maxLength={200} />
              </label>
              <label>
                Customer name
                <input name="customer_name" />
              </label>
              <label>
                Customer email
                <input name="customer_email" type="email" />
              </label>
            </>
          )}
          <label>
            Priority
            <select name="priority" defaultValue="medium">
              <option value="low">Low</option>
              <option value="medium">Medium</option>
              <option value="high">High</option>
            </select>
          </label>
          {asked.map((definition) => (
            <LabelledField
              key={definition.key}
              definition={definition}
              id={`new-field-${definition.key}`}
              draft={draftOf(definition)}
              onChange={(draft) => setDrafts((all) => ({ ...all, [definition.key]: draft }))}
              problem={problems.get(definition.key)}
              required
            />
          ))}
          {create.isError && !onlyFieldProblems && <ErrorState error={create.error} />}
          <div className="actions">
            <button type="button" onClick={() => dialog.current?.close()}>
              Cancel
            </button>
            <button type="submit" className="primary" disabled={create.isPending}>
              {create.isPending ? 'Creating…' : 'Create'}
            </button>
          </div>
        </form>
      </dialog>
    </>
  );
}
