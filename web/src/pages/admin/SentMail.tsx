import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { Fragment, useState } from 'react';
import { Link } from 'react-router';
import { api, dataOf, pageOf } from '../../api/client';
import type { MailDelivery, QueryOf } from '../../api/types';
import { DebouncedInput } from '../../components/Filters';
import { Pager } from '../../components/Pager';
import { Empty, ErrorState, Loading, QueryState } from '../../components/States';
import { Time } from '../../components/Time';
import { Table } from '../../components/Table';

const statuses: MailDelivery['status'][] = ['queued', 'retrying', 'sent', 'stored', 'failed'];
const statusClass: Record<MailDelivery['status'], string> = { sent: 'ok', stored: '', queued: '', retrying: 'warn', failed: 'bad' };
const pageSize = 50;

/** Admin → Sent mail: every notification mail and what became of it; open one to read it as sent. */
export function SentMail() {
  const [status, setStatus] = useState('');
  const [to, setTo] = useState('');
  const [cursors, setCursors] = useState<string[]>([]);
  const [openId, setOpenId] = useState<string | null>(null);
  const mail = useQuery({
    queryKey: ['mail', status, to, cursors.at(-1)],
    queryFn: () =>
      pageOf(
        api.GET('/api/notifications/deliveries', {
          params: {
            query: { status: status as QueryOf<'/api/notifications/deliveries'>['status'], to, limit: pageSize, cursor: cursors.at(-1) },
          },
        }),
      ),
    placeholderData: keepPreviousData,
  });
  const filter = (change: () => void) => {
    setCursors([]);
    change();
  };

  return (
    <div className="split">
      <div className="stack">
        <form className="filters inline" role="search" aria-label="Mail filters" onSubmit={(event) => event.preventDefault()}>
          <label>
            Status
            <select value={status} onChange={(event) => filter(() => setStatus(event.target.value))}>
              <option value="">Any</option>
              {statuses.map((value) => (
                <option key={value} value={value}>
                  {value}
                </option>
              ))}
            </select>
          </label>
          <label className="grow">
            To
            <DebouncedInput value={to} onChange={(value) => filter(() => setTo(value))} placeholder="address" />
          </label>
        </form>
        <QueryState query={mail} isEmpty={(data) => data.items.length === 0} empty="No mail matches.">
          {(data) => (
            <>
              <Table className="mail" headers={['Queued', 'To', 'Subject', 'Status']}>
                {data.items.map((item) => (
                  <tr key={item.id} className={item.id === openId ? 'selected' : undefined}>
                    <td data-label="Queued">
                      <Time iso={item.createdAt} />
                    </td>
                    <td data-label="To" className="small">
                      {item.to}
                    </td>
                    <td data-label="Subject">
                      <button type="button" className="link" aria-pressed={item.id === openId} onClick={() => setOpenId(item.id)}>
                        {item.subject}
                      </button>
                      <div className="muted small">
                        {item.digest ? 'digest' : (item.event ?? '')}
                        {item.ticketNumber !== null && ` · #${item.ticketNumber}`}
                      </div>
                    </td>
                    <td data-label="Status">
                      <span className={`badge ${statusClass[item.status]}`}>{item.status}</span>
                      {item.attempts > 1 && <div className="muted small">{item.attempts} attempts</div>}
                    </td>
                  </tr>
                ))}
              </Table>
              <Pager cursors={cursors} setCursors={setCursors} next={data.page.next_cursor} labels={['← Newer', 'Older →']} />
            </>
          )}
        </QueryState>
      </div>
      {openId ? <MailMessage id={openId} /> : <Empty>Choose a mail to read it.</Empty>}
    </div>
  );
}

/** One mail as it was sent: envelope facts, headers, the text part, and the HTML part in a sandboxed frame. */
function MailMessage({ id }: { id: string }) {
  const message = useQuery({
    queryKey: ['mail', 'one', id],
    queryFn: () => dataOf(api.GET('/api/notifications/deliveries/{id}', { params: { path: { id } } })),
  });
  const [part, setPart] = useState<'html' | 'text'>('html');
  if (message.isPending) return <Loading />;
  if (message.isError) return <ErrorState error={message.error} retry={() => void message.refetch()} />;
  const mail = message.data;
  return (
    <article className="card stack mail-message" aria-labelledby="mail-subject">
      <h2 id="mail-subject">{mail.subject}</h2>
      <dl className="fields">
        <dt>To</dt>
        <dd>{mail.to}</dd>
        <dt>Status</dt>
        <dd>
          <span className={`badge ${statusClass[mail.status]}`}>{mail.status}</span>
          {mail.attempts > 0 && ` after ${mail.attempts} attempt${mail.attempts === 1 ? '' : 's'}`}
          {mail.sentAt && (
            <>
              , sent <Time iso={mail.sentAt} />
            </>
          )}
        </dd>
        {mail.smtpResponse && (
          <>
            <dt>SMTP</dt>
            <dd>
              <code>{mail.smtpResponse}</code>
            </dd>
          </>
        )}
        {mail.error && (
          <>
            <dt>Error</dt>
            <dd className="text-bad">{mail.error}</dd>
          </>
        )}
        <dt>Why</dt>
        <dd>{mail.reason}</dd>
        {mail.ticketId && (
          <>
            <dt>Ticket</dt>
            <dd>
              <Link to={`/tickets/${encodeURIComponent(mail.ticketId)}`}>#{mail.ticketNumber ?? mail.ticketId}</Link>
            </dd>
          </>
        )}
      </dl>
      <div className="segmented" role="group" aria-label="Part">
        <button type="button" aria-pressed={part === 'html'} onClick={() => setPart('html')}>
          HTML
        </button>
        <button type="button" aria-pressed={part === 'text'} onClick={() => setPart('text')}>
          Text
        </button>
      </div>
      {part === 'html' ? (
        // The mail's HTML never joins the page: an empty sandbox runs no script, submits nothing, and cannot reach the dashboard.
        <iframe className="mail-html" title="HTML part" sandbox="" srcDoc={mail.html} referrerPolicy="no-referrer" />
      ) : (
        <pre className="mail-text">{mail.text}</pre>
      )}
      <details>
        <summary>Headers</summary>
        <dl className="fields small">
          {Object.entries(mail.headers).map(([name, value]) => (
            <Fragment key={name}>
              <dt>{name}</dt>
              <dd className="mono">{value}</dd>
            </Fragment>
          ))}
        </dl>
      </details>
    </article>
  );
}
