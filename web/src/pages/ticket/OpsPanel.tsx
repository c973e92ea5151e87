import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useRef } from 'react';
import { api, dataOf, pageOf } from '../../api/client';
import { ApiError } from '../../api/http';
import type { Ticket } from '../../api/types';
import { Empty, ErrorState, Loading } from '../../components/States';
import { Time } from '../../components/Time';
import { statusLabel } from '../../lib/format';

/**
 * The OPS hand-off: its state now as the server sums it up (`GET /api/tickets/:id/ops`, refreshed by the live
 * stream), the one send action that fits it — a plain send, or, while OPS holds the ticket, an explicit
 * "Send again…" that first says what it does — asking OPS for the status, and every exchange in the log.
 */
export function OpsPanel({ ticket, canSend }: { ticket: Ticket; canSend: boolean }) {
  const path = { id: ticket.id };
  const queryClient = useQueryClient();
  const refresh = () => void queryClient.invalidateQueries();
  const confirm = useRef<HTMLDialogElement>(null);
  const logs = useQuery({
    queryKey: ['logs', ticket.id],
    queryFn: () => pageOf(api.GET('/api/tickets/{id}/logs', { params: { path, query: { limit: 50 } } })),
  });
  const handOffState = useQuery({
    queryKey: ['ops-state', ticket.id, ticket.version, ticket.status],
    queryFn: () => dataOf(api.GET('/api/tickets/{id}/ops', { params: { path } })),
  });
  const handOff = useMutation({
    // 200: OPS took it; 202: queued for another attempt. Either way the hand-off state (refreshed) says where it stands.
    mutationFn: async ({ force, retry }: { force: boolean; retry: boolean }) =>
      retry
        ? (await api.POST('/api/ops/{id}/retry', { params: { path, query: { wait: true, force: false } }, body: {} })).data!.data
        : (await api.POST('/api/ops/{id}', { params: { path, query: { wait: true, force } }, body: {} })).data!.data,
    onSettled: refresh,
  });
  const status = useMutation({ mutationFn: () => dataOf(api.GET('/api/status/{id}', { params: { path } })), onSettled: refresh });
  const state = handOffState.data;
  const send = handOff.isPending ? 'none' : (state?.send ?? 'none');
  const failed = state?.state === 'failed';
  const underWay = state?.hand_off && state.hand_off.status !== 'delivered' && state.hand_off.status !== 'failed' ? state.hand_off : null;
  const tone = { not_sent: 'muted', on_its_way: 'warn', with_ops: 'ok', failed: 'bad', closed_by_ops: 'muted' }[state?.state ?? 'not_sent'];

  return (
    <section className="card ops-panel" aria-labelledby="ops-title">
      <h2 id="ops-title">OPS hand-off</h2>
      <p className={`ops-state tone-${tone}`} role="status" aria-live="polite">
        {handOff.isPending ? 'Handing the ticket to OPS…' : (state?.summary ?? (handOffState.isError ? '' : 'Loading…'))}
        {underWay?.next_attempt_at && (
          <span className="small muted">
            {' '}
            Next attempt <Time iso={underWay.next_attempt_at} kind="any" />.
          </span>
        )}
      </p>
      {handOffState.isError && <ErrorState error={handOffState.error} retry={() => void handOffState.refetch()} />}
      <dl className="fields">
        <dt>OPS id</dt>
        <dd>{ticket.ops_id ? <code>{ticket.ops_id}</code> : <span className="muted">none yet</span>}</dd>
        <dt>Status</dt>
        <dd>{statusLabel(ticket.status)}</dd>
      </dl>
      <div className="actions">
        {canSend && send === 'send' && (
          <button type="button" className="primary" onClick={() => handOff.mutate({ force: false, retry: failed })}>
            {failed ? 'Send to OPS again' : 'Send to OPS'}
          </button>
        )}
        {canSend && send === 'resend' && (
          <button type="button" className="primary" disabled title="OPS already holds this ticket">
            Sent to OPS
          </button>
        )}
        {canSend && send === 'none' && (
          <button type="button" className="primary" disabled>
            Sending…
          </button>
        )}
        <button type="button" onClick={() => status.mutate()} disabled={status.isPending || !ticket.ops_id}>
          {status.isPending ? 'Asking OPS…' : 'Refresh OPS status'}
        </button>
        {canSend && send === 'resend' && (
          <button type="button" className="link" onClick={() => confirm.current?.showModal()}>
            Send again…
          </button>
        )}
      </div>
      <dialog ref={confirm} aria-labelledby="resend-title" className="confirm">
        <form
          method="dialog"
          onSubmit={(event) => {
            if ((event.nativeEvent as SubmitEvent).submitter?.getAttribute('value') === 'send') {
              handOff.mutate({ force: true, retry: false });
            }
          }}
        >
          <h2 id="resend-title">Send #{ticket.number} to OPS again?</h2>
          <p>
            OPS already has this ticket{ticket.ops_id ? ` as ${ticket.ops_id}` : ''} ({statusLabel(ticket.status).toLowerCase()}). Sending
            again hands the current subject, description and customer over once more: use it when OPS lost the ticket or needs the changes.
            Its status in OPS starts over.
          </p>
          <div className="actions">
            <button type="submit" value="cancel">
              Cancel
            </button>
            <button type="submit" value="send" className="primary">
              Send again
            </button>
          </div>
        </form>
      </dialog>
      <div aria-live="polite">
        {handOff.isError && (
          <p className="form-error" role="alert">
            {handOff.error.message}
          </p>
        )}
        {status.data && (
          <p className="notice">
            OPS says <strong>{statusLabel(status.data.status)}</strong>
            {status.data.details ? `: ${status.data.details}` : ''}
          </p>
        )}
        {status.isError && (
          <p className="form-error" role="alert">
            {status.error instanceof ApiError && status.error.status === 503
              ? `OPS is not answering right now. Last known status: ${statusLabel(ticket.status)}.`
              : status.error.message}
          </p>
        )}
      </div>
      <h3>Communication log</h3>
      {logs.isPending ? (
        <Loading />
      ) : logs.isError ? (
        <ErrorState error={logs.error} retry={() => void logs.refetch()} />
      ) : logs.data.items.length === 0 ? (
        <Empty>No exchanges with OPS yet.</Empty>
      ) : (
        <ol className="log">
          {logs.data.items.map((entry) => (
            <li key={entry.id} className={`log-${entry.status}`}>
              <details>
                <summary>
                  <span className={`badge ${entry.status === 'success' ? 'ok' : 'bad'}`}>
                    {entry.status === 'success' ? '✓' : '✗'} {entry.status}
                  </span>{' '}
                  <strong>{entry.action}</strong>
                  {entry.attempt ? ` #${entry.attempt}` : ''}
                  {entry.http_status ? ` · HTTP ${entry.http_status}` : ''}
                  {entry.latency_ms !== null && entry.latency_ms !== undefined ? ` · ${entry.latency_ms} ms` : ''} ·{' '}
                  <Time iso={entry.timestamp} />
                  {entry.error && <span className="text-bad"> · {entry.error}</span>}
                </summary>
                <pre>{JSON.stringify({ request: entry.request, response: entry.response }, null, 2)}</pre>
              </details>
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}
