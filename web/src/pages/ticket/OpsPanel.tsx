import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, dataOf, pageOf } from '../../api/client';
import { ApiError } from '../../api/http';
import type { Ticket } from '../../api/types';
import { Empty, ErrorState, Loading } from '../../components/States';
import { Time } from '../../components/Time';

const withOps = ['sent', 'in_progress', 'delayed'];

/** The OPS hand-off: send (or resend), ask OPS for the status, and every exchange in the communication log. */
export function OpsPanel({ ticket, canSend }: { ticket: Ticket; canSend: boolean }) {
  const path = { id: ticket.id };
  const queryClient = useQueryClient();
  const refresh = () => void queryClient.invalidateQueries();
  const logs = useQuery({
    queryKey: ['logs', ticket.id],
    queryFn: () => pageOf(api.GET('/api/tickets/{id}/logs', { params: { path, query: { limit: 50 } } })),
  });
  const handOff = useMutation({
    // 200: OPS took it (opsId); 202: queued for another attempt (status, attempts, next_attempt_at).
    mutationFn: async (force: boolean) =>
      (await api.POST('/api/ops/{id}', { params: { path, query: { wait: true, force } }, body: {} })).data!.data,
    onSettled: refresh,
  });
  const status = useMutation({ mutationFn: () => dataOf(api.GET('/api/status/{id}', { params: { path } })), onSettled: refresh });
  const alreadySent = withOps.includes(ticket.status);
  const sendNow = () => {
    if (alreadySent && !window.confirm('This ticket is already with OPS. Send it again?')) return;
    handOff.mutate(alreadySent);
  };

  return (
    <section className="card" aria-labelledby="ops-title">
      <h2 id="ops-title">OPS hand-off</h2>
      <dl className="fields">
        <dt>OPS id</dt>
        <dd>{ticket.ops_id ? <code>{ticket.ops_id}</code> : <span className="muted">not sent</span>}</dd>
        {ticket.ops_error && (
          <>
            <dt>Last error</dt>
            <dd className="text-bad">{ticket.ops_error}</dd>
          </>
        )}
      </dl>
      <div className="actions">
        {canSend && (
          <button type="button" className="primary" onClick={sendNow} disabled={handOff.isPending}>
            {handOff.isPending ? 'Sending…' : ticket.status === 'failed' ? 'Retry send to OPS' : 'Send to OPS'}
          </button>
        )}
        <button type="button" onClick={() => status.mutate()} disabled={status.isPending || !ticket.ops_id}>
          {status.isPending ? 'Asking OPS…' : 'Refresh OPS status'}
        </button>
      </div>
      <div aria-live="polite">
        {handOff.data && (
          <p className="notice">
            {'opsId' in handOff.data
              ? `Accepted by OPS as ${handOff.data.opsId}.`
              : `Hand-off ${handOff.data.status} (attempt ${handOff.data.attempts})`}
            {'next_attempt_at' in handOff.data && handOff.data.next_attempt_at && (
              <>
                {' '}
                — next attempt <Time iso={handOff.data.next_attempt_at} />
              </>
            )}
          </p>
        )}
        {handOff.isError && <ErrorState error={handOff.error} />}
        {status.data && (
          <p className="notice">
            OPS says <strong>{status.data.status}</strong>
            {status.data.details ? `: ${status.data.details}` : ''}
          </p>
        )}
        {status.isError && (
          <p className="form-error" role="alert">
            {status.error instanceof ApiError && status.error.status === 503
              ? `OPS is unreachable right now (${status.error.message}). Last known status: ${ticket.status}.`
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
