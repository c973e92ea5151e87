import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useRef, useState, type FormEvent } from 'react';
import { useNavigate } from 'react-router';
import { api, dataOf } from '../api/client';
import { useCan } from '../api/session';
import type { RequestBody } from '../api/types';
import { ErrorState } from '../components/States';
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
  const create = useMutation({
    mutationFn: (body: RequestBody<'/api/tickets', 'post'>) => dataOf(api.POST('/api/tickets', { body })),
    onSuccess: (ticket) => {
      dialog.current?.close();
      void queryClient.invalidateQueries();
      void navigate(`/tickets/${encodeURIComponent(ticket.id)}`);
    },
  });

  function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = Object.fromEntries(new FormData(event.currentTarget)) as Record<string, string>;
    const body = Object.fromEntries(Object.entries({ ...form, project }).filter(([, value]) => value !== ''));
    create.mutate(body);
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
          {create.isError && <ErrorState error={create.error} />}
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
