import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useRef, useState, type FormEvent } from 'react';
import { useNavigate } from 'react-router';
import { api, dataOf } from '../api/client';
import { useSession } from '../api/session';
import type { RequestBody } from '../api/types';
import { ErrorState } from '../components/States';
import { ProjectSelect } from '../components/Filters';

/** "New ticket" button and dialog; customers open tickets for themselves. */
export function NewTicket() {
  const dialog = useRef<HTMLDialogElement>(null);
  const { me } = useSession();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const [project, setProject] = useState('');
  const create = useMutation({
    mutationFn: (body: RequestBody<'/api/tickets', 'post'>) => dataOf(api.POST('/api/tickets', { body })),
    onSuccess: (ticket) => {
      dialog.current?.close();
      void queryClient.invalidateQueries();
      void navigate(`/tickets/${encodeURIComponent(ticket.id)}`);
    },
  });
  const customer = me?.role === 'customer';

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
          {!customer && (
            <>
              <ProjectSelect value={project} onChange={setProject} allowAll />
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
