import type { BoardCard, Ticket } from '../api/types';
import { formatExact, formatPercent } from '../lib/format';
import { Time } from './Time';

export type Forecast = NonNullable<Ticket['forecast']>;

/** "83 %" in the viewer's locale; "—" when there is no probability. */
export function formatProbability(probability: number | null | undefined): string {
  return probability === null || probability === undefined ? '—' : formatPercent(probability);
}

/** The reason a part of the forecast is missing, as a sentence. */
export function reasonText(reason: string | null): string {
  if (!reason) return 'No forecast.';
  const sentence = reason.charAt(0).toUpperCase() + reason.slice(1);
  return /history|visits|moves/.test(reason) ? `Too little history: ${reason}.` : `${sentence}.`;
}

/** What a forecast rests on, for a tooltip. */
export function basisText(basis: Forecast['basis']): string {
  const n = (value: number) => value.toLocaleString();
  return [
    `Based on ${n(basis.stage_visits)} ended visits of this stage${basis.per_priority ? ' (this priority only)' : ''}`,
    `${n(basis.stage_exits)} observed moves out of it and ${n(basis.tickets)} tickets' paths`,
    basis.business_time ? 'durations in business time' : 'durations in wall-clock time',
    `method: ${basis.method}`,
  ].join('; ');
}

/** A probability with its label in words (never colour alone); the reason, in words, when it is missing. */
export function Probability({ label, value, reason }: { label: string; value: number | null; reason: string | null }) {
  return (
    <span className="forecast-probability">
      <span className="muted">{label}</span>{' '}
      {value === null ? (
        <span className="muted" title={reasonText(reason)}>
          n/a
        </span>
      ) : (
        <strong>{formatProbability(value)}</strong>
      )}
    </span>
  );
}

/**
 * The delivery forecast of an open ticket (docs/forecast.md): how likely the current stage and the ticket as a whole
 * are to miss their due times, and when it will most likely be finished — for the ticket page's stage panel.
 */
export function ForecastPanel({ forecast }: { forecast: Ticket['forecast'] }) {
  if (forecast === undefined) return null;
  if (forecast === null) return <p className="muted small">No delivery forecast: the ticket is closed or in no project workflow.</p>;
  const reasons = [...new Set([forecast.stage_reason, forecast.ticket_reason].filter((reason): reason is string => !!reason))];
  return (
    <div className="forecast" aria-label="Delivery forecast" role="group" title={basisText(forecast.basis)}>
      <dl className="forecast-figures">
        <div>
          <dt>Stage breach probability</dt>
          <dd>{formatProbability(forecast.stage_breach_probability)}</dd>
        </div>
        <div>
          <dt>Ticket breach probability</dt>
          <dd>{formatProbability(forecast.ticket_breach_probability)}</dd>
        </div>
        <div>
          <dt>Expected finish (median)</dt>
          <dd>
            <Time iso={forecast.expected_finish_at} kind="any" />
          </dd>
        </div>
        <div>
          <dt>Finished with {formatProbability(0.9)} probability</dt>
          <dd>
            <Time iso={forecast.finish_p90_at} kind="any" />
          </dd>
        </div>
      </dl>
      {reasons.map((reason) => (
        <p key={reason} className="small muted">
          {reasonText(reason)}
        </p>
      ))}
      <p className="small muted">{basisText(forecast.basis)}.</p>
    </div>
  );
}

/** A board card's stored forecast or a list row's full one. */
type LineForecast = Pick<Forecast, 'stage_breach_probability' | 'ticket_breach_probability' | 'expected_finish_at'> &
  Partial<Pick<Forecast, 'stage_reason' | 'ticket_reason'>> & { forecast_at?: string };

/** A board card's or list row's forecast in one line: both probabilities labelled, and the median finish. */
export function ForecastLine({
  forecast,
  className = 'card-forecast',
}: {
  forecast: LineForecast | NonNullable<BoardCard['forecast']> | null | undefined;
  className?: string;
}) {
  if (forecast === undefined) return null;
  if (forecast === null) {
    return (
      <span
        className={`${className} muted`}
        title="No forecast: the ticket is closed or in no workflow stage, its stage has too little history or no target, or it has not been forecast yet (every 2 minutes)"
      >
        No forecast
      </span>
    );
  }
  return (
    <span
      className={className}
      title={`Breach probability of the current stage and of the whole ticket, and its median finish${'forecast_at' in forecast && forecast.forecast_at ? `, as forecast ${formatExact(forecast.forecast_at)}` : ''}`}
    >
      <Probability
        label="Stage"
        value={forecast.stage_breach_probability}
        reason={('stage_reason' in forecast && forecast.stage_reason) || null}
      />
      <Probability
        label="Ticket"
        value={forecast.ticket_breach_probability}
        reason={('ticket_reason' in forecast && forecast.ticket_reason) || null}
      />
      {forecast.expected_finish_at && (
        <span>
          <span className="muted">Finish</span> <Time iso={forecast.expected_finish_at} kind="any" />
        </span>
      )}
    </span>
  );
}
