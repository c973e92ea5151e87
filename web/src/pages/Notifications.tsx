import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useState, type FormEvent } from 'react';
import { api, dataOf } from '../api/client';
import type { DeliveryMode, NotificationPreferences } from '../api/types';
import { ErrorState, Loading } from '../components/States';
import { eventLabel } from '../lib/events';

const modes: { mode: DeliveryMode; label: string }[] = [
  { mode: 'immediate', label: 'Immediately' },
  { mode: 'digest', label: 'In a digest' },
  { mode: 'off', label: 'Off' },
];
type Events = NotificationPreferences['events'];
type EventType = keyof Events;

/** The signed-in user's e-mail: for each event immediately, gathered into a digest, or not at all. */
export default function Notifications() {
  const queryClient = useQueryClient();
  const preferences = useQuery({
    queryKey: ['me', 'notifications'],
    queryFn: () => dataOf(api.GET('/api/me/notifications')),
  });
  const [draft, setDraft] = useState<NotificationPreferences | null>(null);
  useEffect(() => setDraft(preferences.data ?? null), [preferences.data]);
  const save = useMutation({
    mutationFn: (body: Pick<NotificationPreferences, 'digestMinutes' | 'events'>) => dataOf(api.PUT('/api/me/notifications', { body })),
    onSuccess: (saved) => queryClient.setQueryData(['me', 'notifications'], saved),
  });

  if (preferences.isPending) return <Loading />;
  if (preferences.isError) return <ErrorState error={preferences.error} retry={() => void preferences.refetch()} />;
  if (!draft) return null;
  const saved = preferences.data;
  const types = Object.keys(draft.events) as EventType[];
  const changed = draft.digestMinutes !== saved.digestMinutes || types.some((type) => draft.events[type] !== saved.events[type]);
  const setMode = (type: EventType, mode: DeliveryMode) => {
    save.reset();
    setDraft({ ...draft, events: { ...draft.events, [type]: mode } });
  };
  const submit = (event: FormEvent) => {
    event.preventDefault();
    const events = Object.fromEntries(
      types.filter((type) => draft.events[type] !== saved.events[type]).map((type) => [type, draft.events[type]]),
    );
    save.mutate({ digestMinutes: draft.digestMinutes, events: events as Events });
  };

  return (
    <section aria-labelledby="notifications-title" className="narrow">
      <h1 id="notifications-title">Notifications</h1>
      <p className="muted">
        Mail goes to <strong>{draft.email}</strong> about tickets you watch, are assigned to or that match a view you subscribed to — never
        about your own changes. At-risk and overdue alerts are always gathered for a few minutes, so a burst arrives as one mail.
      </p>
      <form onSubmit={submit} className="card stack">
        <label className="inline">
          Send digests every
          <input
            type="number"
            min={5}
            max={1440}
            step={5}
            required
            value={draft.digestMinutes}
            onChange={(event) => {
              save.reset();
              setDraft({ ...draft, digestMinutes: Number(event.target.value) });
            }}
          />
          minutes
        </label>
        <table className="modes">
          <thead>
            <tr>
              <th scope="col">Event</th>
              {modes.map(({ mode, label }) => (
                <th key={mode} scope="col">
                  {label}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {types.map((type) => (
              <tr key={type} role="radiogroup" aria-label={eventLabel(type)}>
                <th scope="row">
                  {eventLabel(type)} <code className="muted small">{type}</code>
                </th>
                {modes.map(({ mode, label }) => (
                  <td key={mode}>
                    <input
                      type="radio"
                      name={type}
                      aria-label={`${eventLabel(type)}: ${label}`}
                      checked={draft.events[type] === mode}
                      onChange={() => setMode(type, mode)}
                    />
                  </td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
        {save.isError && <ErrorState error={save.error} />}
        <div className="actions">
          {save.isSuccess && !changed && (
            <span role="status" className="text-ok">
              Saved.
            </span>
          )}
          <button type="button" disabled={!changed || save.isPending} onClick={() => setDraft(saved)}>
            Undo changes
          </button>
          <button type="submit" className="primary" disabled={!changed || save.isPending}>
            {save.isPending ? 'Saving…' : 'Save'}
          </button>
        </div>
      </form>
    </section>
  );
}
