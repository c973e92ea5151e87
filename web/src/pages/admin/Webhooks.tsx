import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Fragment, useEffect, useState, type FormEvent } from 'react';
import { api, dataOf, pageOf } from '../../api/client';
import type { CreatedWebhook, RequestBody, Webhook, WebhookDelivery, WebhookEvent } from '../../api/types';
import { ErrorState, QueryState } from '../../components/States';
import { Time } from '../../components/Time';
import { eventDescription, eventLabel, webhookEvents } from '../../lib/events';
import { Table } from '../../components/Table';

type Patch = RequestBody<'/api/webhooks/{id}', 'patch'>;
type Shown = { url: string; secret: string; rotated: boolean };

const statusClass: Record<string, string> = { delivered: 'ok', failed: 'bad', retrying: 'warn', queued: '' };
const unfinished = (delivery: WebhookDelivery) => delivery.status === 'queued' || delivery.status === 'retrying';

/** JSON indented for reading; anything else as it came. */
function readable(body: string): string {
  try {
    return JSON.stringify(JSON.parse(body), null, 2);
  } catch {
    return body;
  }
}

/** Admin → Webhooks: receivers of ticket events, their signing secrets, and every delivery's exchange. */
export function Webhooks() {
  const queryClient = useQueryClient();
  const hooks = useQuery({
    queryKey: ['webhooks'],
    queryFn: () => pageOf(api.GET('/api/webhooks', { params: { query: { limit: 200 } } })),
  });
  const [selected, setSelected] = useState<string | null>(null);
  const [shown, setShown] = useState<Shown | null>(null);
  const refresh = () => void queryClient.invalidateQueries({ queryKey: ['webhooks'] });
  const update = useMutation({
    mutationFn: ({ id, patch }: { id: string; patch: Patch }) =>
      dataOf(api.PATCH('/api/webhooks/{id}', { params: { path: { id } }, body: patch })),
    onSuccess: (hook) => {
      if (hook.secret) setShown({ url: hook.url, secret: hook.secret, rotated: true });
      refresh();
    },
  });
  const remove = useMutation({
    mutationFn: (id: string) => api.DELETE('/api/webhooks/{id}', { params: { path: { id } } }),
    onSuccess: (_answer, id) => {
      if (selected === id) setSelected(null);
      refresh();
    },
  });
  const ping = useMutation({
    mutationFn: (id: string) => dataOf(api.POST('/api/webhooks/{id}/ping', { params: { path: { id } } })),
    onSuccess: (_delivery, id) => {
      setSelected(id);
      void queryClient.invalidateQueries({ queryKey: ['webhook-deliveries', id] });
    },
  });
  const failure = update.error ?? remove.error ?? ping.error;
  const chosen = hooks.data?.items.find((hook) => hook.id === selected);

  return (
    <div className="stack">
      <NewWebhook
        onCreated={(hook) => {
          setShown({ url: hook.url, secret: hook.secret, rotated: false });
          setSelected(hook.id);
          refresh();
        }}
      />
      {shown && <SecretNotice shown={shown} onDone={() => setShown(null)} />}
      {failure && <ErrorState error={failure} />}
      <QueryState
        query={hooks}
        isEmpty={(data) => data.items.length === 0}
        empty="No webhooks yet. Add a URL above to receive ticket events."
      >
        {(data) => (
          <Table className="webhooks" headers={['Receiver', 'Events', 'State', 'Last delivery']} actions>
            {data.items.map((hook) => (
              <tr key={hook.id} className={hook.id === selected ? 'selected' : undefined}>
                <td data-label="Receiver">
                  <code className="url">{hook.url}</code>
                  {hook.description && <div className="muted small">{hook.description}</div>}
                </td>
                <td data-label="Events" className="small">
                  {hook.events.includes('*') ? 'All events' : hook.events.join(', ')}
                </td>
                <td data-label="State">
                  {hook.enabled ? <span className="badge ok">Enabled</span> : <span className="badge bad">Disabled</span>}
                  {hook.disabledReason && <div className="small text-bad">{hook.disabledReason}</div>}
                  {hook.consecutiveFailures > 0 && <div className="small muted">{hook.consecutiveFailures} failures in a row</div>}
                </td>
                <td data-label="Last delivery">
                  {hook.lastStatus ? <span className={`badge ${statusClass[hook.lastStatus]}`}>{hook.lastStatus}</span> : null}{' '}
                  <Time iso={hook.lastDeliveryAt} />
                </td>
                <td>
                  <div className="row-actions">
                    <button
                      type="button"
                      aria-pressed={hook.id === selected}
                      onClick={() => setSelected(hook.id === selected ? null : hook.id)}
                    >
                      Deliveries
                    </button>
                    <button type="button" disabled={ping.isPending} onClick={() => ping.mutate(hook.id)}>
                      Ping
                    </button>
                    <button type="button" onClick={() => update.mutate({ id: hook.id, patch: { enabled: !hook.enabled } })}>
                      {hook.enabled ? 'Disable' : 'Enable'}
                    </button>
                    <button
                      type="button"
                      onClick={() =>
                        window.confirm(`Rotate the secret of ${hook.url}? The old one stops working at once.`) &&
                        update.mutate({ id: hook.id, patch: { rotateSecret: true } })
                      }
                    >
                      Rotate secret
                    </button>
                    <button
                      type="button"
                      className="danger"
                      onClick={() => window.confirm(`Delete the webhook ${hook.url} and its delivery log?`) && remove.mutate(hook.id)}
                    >
                      Delete
                    </button>
                  </div>
                </td>
              </tr>
            ))}
          </Table>
        )}
      </QueryState>
      {chosen && <DeliveryLog hook={chosen} />}
    </div>
  );
}

function NewWebhook({ onCreated }: { onCreated(hook: CreatedWebhook): void }) {
  const [events, setEvents] = useState<WebhookEvent[]>([]);
  const [problem, setProblem] = useState<string | null>(null);
  const create = useMutation({
    mutationFn: (body: RequestBody<'/api/webhooks', 'post'>) => dataOf(api.POST('/api/webhooks', { body })),
  });
  const all = events.includes('*');
  const toggle = (event: WebhookEvent) => setEvents(events.includes(event) ? events.filter((e) => e !== event) : [...events, event]);
  const submit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    if (events.length === 0) return setProblem('Choose the events to send, or “All events”.');
    setProblem(null);
    const form = event.currentTarget;
    const fields = Object.fromEntries(new FormData(form)) as Record<string, string>;
    create.mutate(
      { url: fields.url, description: fields.description, events: all ? ['*'] : events },
      {
        onSuccess: (hook) => {
          form.reset();
          setEvents([]);
          onCreated(hook);
        },
      },
    );
  };
  return (
    <form className="card stack" onSubmit={submit} aria-label="New webhook">
      <h2>New webhook</h2>
      <div className="filters inline">
        <label className="grow">
          Payload URL <input name="url" type="url" required placeholder="https://example.com/hooks/stageline" />
        </label>
        <label className="grow">
          Description <input name="description" maxLength={500} placeholder="optional" />
        </label>
      </div>
      <fieldset className="column-choice">
        <legend>Events</legend>
        <label className="check all">
          <input type="checkbox" checked={all} onChange={() => toggle('*')} /> All events, including ones added later
        </label>
        {webhookEvents.map((type) => (
          <label key={type} className="check" title={`${type}: ${eventDescription(type)}`}>
            <input type="checkbox" disabled={all} checked={all || events.includes(type)} onChange={() => toggle(type)} /> {eventLabel(type)}
          </label>
        ))}
      </fieldset>
      {problem && (
        <p className="form-error" role="alert">
          {problem}
        </p>
      )}
      {create.isError && <ErrorState error={create.error} />}
      <div className="actions">
        <button type="submit" className="primary" disabled={create.isPending}>
          {create.isPending ? 'Adding…' : 'Add webhook'}
        </button>
      </div>
    </form>
  );
}

/** The signing secret, answered only on create and rotation: shown once, with a button to copy it. */
function SecretNotice({ shown, onDone }: { shown: Shown; onDone(): void }) {
  const [copied, setCopied] = useState<boolean | null>(null);
  const copy = () =>
    navigator.clipboard.writeText(shown.secret).then(
      () => setCopied(true),
      () => setCopied(false),
    );
  return (
    <div className="notice stack" role="status" aria-label="Signing secret">
      <p>
        {shown.rotated ? 'New signing secret' : 'Signing secret'} for <code>{shown.url}</code>. Copy it now: it is not shown again.
        Receivers check the <code>Stageline-Signature</code> header with it.
      </p>
      <div className="secret-row">
        <code className="secret" data-testid="webhook-secret">
          {shown.secret}
        </code>
        <button type="button" onClick={() => void copy()}>
          Copy
        </button>
        {copied !== null && <span className="small">{copied ? 'Copied.' : 'Could not copy: select the text and copy it.'}</span>}
        <button type="button" className="link" onClick={onDone}>
          Done
        </button>
      </div>
    </div>
  );
}

function DeliveryLog({ hook }: { hook: Webhook }) {
  const queryClient = useQueryClient();
  const queryKey = ['webhook-deliveries', hook.id];
  const [open, setOpen] = useState<string | null>(null);
  const deliveries = useQuery({
    queryKey,
    queryFn: () => pageOf(api.GET('/api/webhooks/{id}/deliveries', { params: { path: { id: hook.id }, query: { limit: 50 } } })),
    // While something is on its way, look again soon; the log then settles.
    refetchInterval: (query) => (query.state.data?.items.some(unfinished) ? 2000 : false),
  });
  // A delivery that settles changes the hook's last status and failure count in the list above.
  const settled = deliveries.data?.items.filter((delivery) => !unfinished(delivery)).length;
  useEffect(() => {
    if (settled !== undefined) void queryClient.invalidateQueries({ queryKey: ['webhooks'] });
  }, [settled, queryClient]);
  const redeliver = useMutation({
    mutationFn: (delivery: WebhookDelivery) =>
      dataOf(api.POST('/api/webhooks/{id}/deliveries/{delivery}/redeliver', { params: { path: { id: hook.id, delivery: delivery.id } } })),
    onSuccess: () => void queryClient.invalidateQueries({ queryKey }),
  });

  return (
    <section className="card" aria-labelledby="deliveries-title">
      <h2 id="deliveries-title">
        Deliveries to <code className="url">{hook.url}</code>
      </h2>
      {redeliver.isError && <ErrorState error={redeliver.error} />}
      <QueryState query={deliveries} isEmpty={(data) => data.items.length === 0} empty="Nothing delivered yet. Ping sends a test event.">
        {(data) => (
          <Table className="deliveries" headers={['When', 'Event', 'Status', 'HTTP', 'Latency', 'Attempts']} actions>
            {data.items.map((delivery) => (
              <Fragment key={delivery.id}>
                <tr>
                  <td data-label="When">
                    <Time iso={delivery.createdAt} />
                  </td>
                  <td data-label="Event">
                    <code>{delivery.eventType}</code>
                    {delivery.trigger === 'redelivery' && <span className="tag">again</span>}
                  </td>
                  <td data-label="Status">
                    <span className={`badge ${statusClass[delivery.status]}`}>{delivery.status}</span>
                  </td>
                  <td data-label="HTTP">{delivery.responseStatus ?? '—'}</td>
                  <td data-label="Latency">{delivery.latencyMs === null ? '—' : `${delivery.latencyMs} ms`}</td>
                  <td data-label="Attempts">{delivery.attempts}</td>
                  <td>
                    <div className="row-actions">
                      <button
                        type="button"
                        aria-expanded={open === delivery.id}
                        onClick={() => setOpen(open === delivery.id ? null : delivery.id)}
                      >
                        {open === delivery.id ? 'Hide' : 'Show'} exchange
                      </button>
                      <button
                        type="button"
                        disabled={unfinished(delivery) || redeliver.isPending}
                        onClick={() => redeliver.mutate(delivery)}
                      >
                        Redeliver
                      </button>
                    </div>
                  </td>
                </tr>
                {open === delivery.id && (
                  <tr className="exchange">
                    <td colSpan={7}>
                      {delivery.error && <p className="form-error">{delivery.error}</p>}
                      <div className="exchange-grid">
                        <div>
                          <h3>Request body</h3>
                          <pre>{readable(delivery.requestBody)}</pre>
                        </div>
                        <div>
                          <h3>Response {delivery.responseStatus ?? ''}</h3>
                          <pre>{delivery.responseBody === null ? '(no answer)' : readable(delivery.responseBody)}</pre>
                        </div>
                      </div>
                    </td>
                  </tr>
                )}
              </Fragment>
            ))}
          </Table>
        )}
      </QueryState>
    </section>
  );
}
