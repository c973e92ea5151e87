import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useRef } from 'react';
import { api, dataOf, pageOf } from '../../api/client';
import { ApiError } from '../../api/http';
import type { LogEntry, Ticket } from '../../api/types';
import { Empty, ErrorState, Loading } from '../../components/States';
import { Time } from '../../components/Time';
import { statusLabel } from '../../lib/format';

/** Statuses in which OPS holds the ticket: sending again is an explicit, explained resend. */
const heldByOps = ['sent', 'in_progress', 'delayed'];

/** What the hand-off is doing now, in words, from the ticket as it is (refreshed live). */
function handOffState(ticket: Ticket, lastLog: LogEntry | undefined): { text: string; tone: 'ok' | 'warn' | 'bad' | 'muted' } {
  const opsStatus = statusLabel(ticket.status).toLowerCase();
  switch (ticket.status) {
    case 'pending':
      return {
        text:
          lastLog && lastLog.status !== 'success'
            ? `Handing off: attempt ${lastLog.attempt ?? 1} did not reach OPS; it is tried again automatically.`
            : 'Handing off to OPS now…',
        tone: 'warn',
      };
    case 'sent':
    case 'in_progress':
    case 'delayed':
      return { text: `OPS holds this ticket (${opsStatus}).`, tone: ticket.status === 'delayed' ? 'warn' : 'ok' };
    case 'closed':
      return { text: ticket.ops_id ? 'OPS closed this ticket.' : 'Closed.', tone: 'muted' };
    case 'failed':
      return {
        text: `The hand-off failed${ticket.ops_error ? `: ${ticket.ops_error}` : '.'} Send it again when OPS is back.`,
        tone: 'bad',
      };
    default:
      return { text: 'Not sent to OPS yet.', tone: 'muted' };
  }
}

/**
 * The OPS hand-off: its state now (the live stream refreshes it), send — or, while OPS holds the ticket, an
 * explicit "Send again…" that says what it does first — ask OPS for the status, and every exchange in the log.
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
  const handOff = useMutation({
    // 200: OPS took it; 202: queued for another attempt. Either way the ticket (refreshed) says where it stands.
    mutationFn: async ({ force, retry }: { force: boolean; retry: boolean }) =>
      retry
        ? (await api.POST('/api/ops/{id}/retry', { params: { path, query: { wait: true, force: false } }, body: {} })).data!.data
        : (await api.POST('/api/ops/{id}', { params: { path, query: { wait: true, force } }, body: {} })).data!.data,
    onSettled: refresh,
  });
  const status = useMutation({ mutationFn: () => dataOf(api.GET('/api/status/{id}', { params: { path } })), onSettled: refresh });
  const held = heldByOps.includes(ticket.status);
  const underWay = ticket.status === 'pending' || handOff.isPending;
  const failed = ticket.status === 'failed';
  const state = handOffState(ticket, logs.data?.items[0]);

  return (
    <section className="card ops-panel" aria-labelledby="ops-title">
      <h2 id="ops-title">OPS hand-off</h2>
      <p className={`ops-state tone-${state.tone}`} role="status" aria-live="polite">
        {state.text}
      </p>
      <dl className="fields">
        <dt>OPS id</dt>
        <dd>{ticket.ops_id ? <code>{ticket.ops_id}</code> : <span className="muted">none yet</span>}</dd>
        <dt>Status</dt>
        <dd>{statusLabel(ticket.status)}</dd>
      </dl>
      <div className="actions">
        {canSend && !held && ticket.status !== 'closed' && (
          <button type="button" className="primary" onClick={() => handOff.mutate({ force: false, retry: failed })} disabled={underWay}>
            {underWay ? 'Sending…' : failed ? 'Send to OPS again' : 'Send to OPS'}
          </button>
        )}
        {canSend && held && (
          <button type="button" className="primary" disabled title="OPS already holds this ticket">
            Sent to OPS
          </button>
        )}
        <button type="button" onClick={() => status.mutate()} disabled={status.isPending || !ticket.ops_id}>
          {status.isPending ? 'Asking OPS…' : 'Refresh OPS status'}
        </button>
        {canSend && (held || ticket.status === 'closed') && (
          <button type="button" className="link" onClick={() => confirm.current?.showModal()} disabled={underWay}>
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
