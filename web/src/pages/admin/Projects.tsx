import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import { api, dataOf } from '../../api/client';
import type { Project } from '../../api/types';
import { useProjects } from '../../components/Filters';
import { ErrorState, Loading } from '../../components/States';
import { ProjectFields } from './ProjectFields';
import { formatPercent, formatTarget } from '../../lib/format';

const units = [
  ['m', 'minutes', 1],
  ['h', 'hours', 60],
  ['d', 'days', 1440],
] as const;
type Unit = (typeof units)[number][0];
const factor = (unit: Unit) => units.find(([key]) => key === unit)![2];
/** The largest unit that shows the minutes as a whole (or one-decimal) number. */
const unitFor = (minutes: number): Unit => (minutes % 1440 === 0 ? 'd' : minutes % 60 === 0 || minutes >= 600 ? 'h' : 'm');

/**
 * A target entered in minutes, hours or days (the API keeps minutes): "4 h", "2 d", never a raw 2880. The unit
 * follows the number entered; an empty field means no target.
 */
function DurationInput({
  label,
  hideLabel = false,
  minutes,
  onChange,
}: {
  label: string;
  hideLabel?: boolean;
  minutes: string;
  onChange(minutes: string): void;
}) {
  const stored = minutes ? Number(minutes) : null;
  const [unit, setUnit] = useState<Unit>(() => (stored ? unitFor(stored) : 'h'));
  const shown = stored === null ? '' : String(Math.round((stored / factor(unit)) * 100) / 100);
  const set = (value: string, to: Unit = unit) => onChange(value === '' ? '' : String(Math.max(1, Math.round(Number(value) * factor(to)))));
  return (
    <span className="duration-input">
      <label>
        <span className={hideLabel ? 'sr-only' : undefined}>{label}</span>
        <input type="number" min="0" step="any" value={shown} onChange={(event) => set(event.target.value)} size={5} />
      </label>
      <select
        aria-label={`${label}: unit`}
        value={unit}
        onChange={(event) => {
          // Changing the unit keeps the number and changes what it means: "4" minutes becomes "4" hours.
          const next = event.target.value as Unit;
          setUnit(next);
          if (shown !== '') set(shown, next);
        }}
      >
        {units.map(([key, name]) => (
          <option key={key} value={key}>
            {name}
          </option>
        ))}
      </select>
    </span>
  );
}

type StageDraft = { key: string; name: string; parent: string; target_minutes: string; pauses: boolean; final: boolean };
type Calendar = { time_zone: string; working_days: number[]; working_hours: { start: string; end: string }; holidays: string[] };
type Draft = {
  id?: string;
  version?: number;
  key: string;
  name: string;
  description: string;
  /** A percentage of the target used (the API takes a share). */
  at_risk_percent: string;
  /** A percentage (the API takes a share). */
  breach_likely_percent: string;
  ticket_target_minutes: string;
  /** A ticket created through the API enters the workflow's first stage at once. */
  enter_first_stage: boolean;
  calendar: Calendar | null;
  stages: StageDraft[];
  /** null: any stage to any stage. */
  transitions: Set<string> | null;
};

const weekdays = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];
const pair = (from: string | null, to: string) => `${from ?? ''}→${to}`;
const emptyDraft = (): Draft => ({
  key: '',
  name: '',
  description: '',
  at_risk_percent: '80',
  breach_likely_percent: '70',
  ticket_target_minutes: '',
  enter_first_stage: true,
  calendar: null,
  stages: [{ key: 'intake', name: 'Intake', parent: '', target_minutes: '60', pauses: false, final: false }],
  transitions: null,
});

function toDraft(project: Project): Draft {
  return {
    id: project.id,
    version: project.version,
    key: project.key,
    name: project.name,
    description: project.description ?? '',
    at_risk_percent: String(Math.round((project.at_risk_threshold ?? 0.8) * 100)),
    breach_likely_percent: String(Math.round((project.breach_likely_threshold ?? 0.7) * 1000) / 10),
    ticket_target_minutes: project.ticket_target_minutes ? String(project.ticket_target_minutes) : '',
    enter_first_stage: project.new_tickets_enter_first_stage,
    calendar: (project.calendar as Calendar | null) ?? null,
    stages: (project.stages ?? [])
      .filter((stage) => !stage.archived)
      .map((stage) => ({
        key: stage.key,
        name: stage.name,
        parent: stage.parent ?? '',
        target_minutes: stage.target_minutes ? String(stage.target_minutes) : '',
        pauses: Boolean(stage.pauses),
        final: Boolean(stage.final),
      })),
    transitions: project.transitions ? new Set(project.transitions.map((t) => pair(t.from, t.to))) : null,
  };
}

function toBody(draft: Draft) {
  return {
    key: draft.key,
    name: draft.name,
    description: draft.description || null,
    at_risk_threshold: Number(draft.at_risk_percent) / 100,
    breach_likely_threshold: Number(draft.breach_likely_percent) / 100,
    ticket_target_minutes: draft.ticket_target_minutes ? Number(draft.ticket_target_minutes) : null,
    new_tickets_enter_first_stage: draft.enter_first_stage,
    calendar: draft.calendar,
    stages: draft.stages.map((stage) => ({
      key: stage.key,
      name: stage.name,
      parent: stage.parent || null,
      target_minutes: stage.target_minutes ? Number(stage.target_minutes) : null,
      pauses: stage.pauses,
      final: stage.final,
    })),
    transitions: draft.transitions
      ? [...draft.transitions].map((text) => {
          const [from, to] = text.split('→');
          return { from: from || null, to };
        })
      : null,
  };
}

export function Projects() {
  const projects = useProjects();
  const queryClient = useQueryClient();
  // Opens on the first existing project; '' is a new one.
  const [chosen, setSelected] = useState<string | null>(null);
  const selected = chosen ?? projects.data?.[0]?.id ?? '';
  const [draft, setDraft] = useState<Draft>(emptyDraft);
  useEffect(() => {
    const project = projects.data?.find((candidate) => candidate.id === selected);
    setDraft(project ? toDraft(project) : emptyDraft());
  }, [selected, projects.data]);
  const save = useMutation({
    mutationFn: () =>
      draft.id
        ? dataOf(
            api.PATCH('/api/projects/{id}', { params: { path: { id: draft.id } }, body: { ...toBody(draft), version: draft.version } }),
          )
        : dataOf(api.POST('/api/projects', { body: toBody(draft) })),
    onSuccess: (project) => {
      void queryClient.invalidateQueries({ queryKey: ['projects'] });
      setSelected(project.id);
    },
  });

  if (projects.isPending) return <Loading />;
  if (projects.isError) return <ErrorState error={projects.error} retry={() => void projects.refetch()} />;
  const setStage = (index: number, changes: Partial<StageDraft>) =>
    setDraft({ ...draft, stages: draft.stages.map((stage, i) => (i === index ? { ...stage, ...changes } : stage)) });
  const moveStage = (index: number, by: -1 | 1) => {
    const stages = [...draft.stages];
    [stages[index], stages[index + by]] = [stages[index + by], stages[index]];
    setDraft({ ...draft, stages });
  };
  const majors = draft.stages.filter((stage) => !stage.parent && stage.key);
  const toggleTransition = (from: string | null, to: string) => {
    const next = new Set(draft.transitions ?? []);
    if (next.has(pair(from, to))) next.delete(pair(from, to));
    else next.add(pair(from, to));
    setDraft({ ...draft, transitions: next });
  };

  const saved = projects.data.find((candidate) => candidate.id === selected);
  return (
    <>
      <form
        className="stack"
        onSubmit={(event) => {
          event.preventDefault();
          save.mutate();
        }}
      >
        {projects.data.length > 0 && (
          <div className="table-wrap">
            <table className="projects-list">
              <caption className="sr-only">Projects</caption>
              <thead>
                <tr>
                  <th scope="col">Project</th>
                  <th scope="col">Key</th>
                  <th scope="col">Stages</th>
                  <th scope="col">Ticket target</th>
                  <th scope="col">At risk at</th>
                </tr>
              </thead>
              <tbody>
                {projects.data.map((project) => (
                  <tr key={project.id} className={project.id === selected ? 'selected' : undefined}>
                    <td data-label="Project">
                      <button type="button" className="link" aria-pressed={project.id === selected} onClick={() => setSelected(project.id)}>
                        {project.name}
                      </button>
                    </td>
                    <td data-label="Key">
                      <code>{project.key}</code>
                    </td>
                    <td data-label="Stages">{project.stages.filter((stage) => !stage.archived).length}</td>
                    <td data-label="Ticket target">{formatTarget(project.ticket_target_minutes)}</td>
                    <td data-label="At risk at">{formatPercent(project.at_risk_threshold ?? 0.8)} of a target</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
        <div className="filters">
          <label>
            Project
            <select value={selected} onChange={(event) => setSelected(event.target.value)}>
              {projects.data.map((project) => (
                <option key={project.id} value={project.id}>
                  {project.name}
                </option>
              ))}
              <option value="">New project…</option>
            </select>
          </label>
          <label>
            Key{' '}
            <input
              value={draft.key}
              onChange={(e) => setDraft({ ...draft, key: e.target.value })}
              required
              pattern="[A-Za-z0-9][A-Za-z0-9._\-]*"
            />
          </label>
          <label>
            Name <input value={draft.name} onChange={(e) => setDraft({ ...draft, name: e.target.value })} required />
          </label>
          <label>
            At risk at (% of a target used)
            <input
              type="number"
              min="5"
              max="100"
              step="5"
              value={draft.at_risk_percent}
              onChange={(e) => setDraft({ ...draft, at_risk_percent: e.target.value })}
            />
          </label>
          <label>
            Likely to breach at (%)
            <input
              type="number"
              min="1"
              max="100"
              step="any"
              required
              value={draft.breach_likely_percent}
              onChange={(e) => setDraft({ ...draft, breach_likely_percent: e.target.value })}
              aria-describedby="breach-likely-help"
            />
            <span id="breach-likely-help" className="muted small">
              Forecast breach probability that lists a ticket under Delayed → Likely to breach
            </span>
          </label>
          <DurationInput
            label="Ticket target"
            minutes={draft.ticket_target_minutes}
            onChange={(ticket_target_minutes) => setDraft({ ...draft, ticket_target_minutes })}
          />
          <label className="check">
            <input
              type="checkbox"
              checked={draft.enter_first_stage}
              onChange={(e) => setDraft({ ...draft, enter_first_stage: e.target.checked })}
            />{' '}
            New tickets enter the first stage
          </label>
        </div>

        <fieldset className="card">
          <legend>Stages</legend>
          <div className="table-wrap">
            <table className="editor">
              <thead>
                <tr>
                  <th scope="col">Order</th>
                  <th scope="col">Key</th>
                  <th scope="col">Name</th>
                  <th scope="col">Sub-stage of</th>
                  <th scope="col">Target</th>
                  <th scope="col">Pauses SLA</th>
                  <th scope="col">Final</th>
                  <th scope="col">
                    <span className="sr-only">Remove</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {draft.stages.map((stage, index) => (
                  <tr key={index}>
                    <td>
                      <button
                        type="button"
                        aria-label={`Move ${stage.name} up`}
                        disabled={index === 0}
                        onClick={() => moveStage(index, -1)}
                      >
                        ↑
                      </button>
                      <button
                        type="button"
                        aria-label={`Move ${stage.name} down`}
                        disabled={index === draft.stages.length - 1}
                        onClick={() => moveStage(index, 1)}
                      >
                        ↓
                      </button>
                    </td>
                    <td>
                      <input
                        aria-label="Key"
                        value={stage.key}
                        required
                        onChange={(e) => setStage(index, { key: e.target.value })}
                        size={12}
                      />
                    </td>
                    <td>
                      <input aria-label="Name" value={stage.name} required onChange={(e) => setStage(index, { name: e.target.value })} />
                    </td>
                    <td>
                      <select aria-label="Sub-stage of" value={stage.parent} onChange={(e) => setStage(index, { parent: e.target.value })}>
                        <option value="">— (major stage)</option>
                        {majors
                          .filter((major) => major.key !== stage.key)
                          .map((major) => (
                            <option key={major.key} value={major.key}>
                              {major.name}
                            </option>
                          ))}
                      </select>
                    </td>
                    <td>
                      <DurationInput
                        label={`Target of ${stage.name || 'this stage'}`}
                        hideLabel
                        minutes={stage.target_minutes}
                        onChange={(target_minutes) => setStage(index, { target_minutes })}
                      />
                    </td>
                    <td>
                      <input
                        aria-label="Pauses the SLA clock"
                        type="checkbox"
                        checked={stage.pauses}
                        onChange={(e) => setStage(index, { pauses: e.target.checked })}
                      />
                    </td>
                    <td>
                      <input
                        aria-label="Final stage"
                        type="checkbox"
                        checked={stage.final}
                        onChange={(e) => setStage(index, { final: e.target.checked })}
                      />
                    </td>
                    <td>
                      <button
                        type="button"
                        onClick={() => setDraft({ ...draft, stages: draft.stages.filter((_, i) => i !== index) })}
                        disabled={draft.stages.length === 1}
                      >
                        Remove
                      </button>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <button
            type="button"
            onClick={() =>
              setDraft({
                ...draft,
                stages: [...draft.stages, { key: '', name: '', parent: '', target_minutes: '', pauses: false, final: false }],
              })
            }
          >
            Add stage
          </button>
          <p className="muted small">Removing a stage archives it: tickets' history keeps its name.</p>
        </fieldset>

        <fieldset className="card">
          <legend>Transitions</legend>
          <label className="check">
            <input
              type="checkbox"
              checked={draft.transitions === null}
              onChange={(e) => setDraft({ ...draft, transitions: e.target.checked ? null : new Set() })}
            />{' '}
            Any stage may move to any stage
          </label>
          {draft.transitions && (
            <div className="table-wrap">
              <table className="matrix">
                <caption className="muted small">Rows: from · Columns: to</caption>
                <thead>
                  <tr>
                    <th scope="col">From \ To</th>
                    {draft.stages.map((stage) => (
                      <th key={stage.key} scope="col">
                        {stage.name || stage.key}
                      </th>
                    ))}
                  </tr>
                </thead>
                <tbody>
                  {[null, ...draft.stages.map((stage) => stage.key)].map((from) => (
                    <tr key={from ?? '(start)'}>
                      <th scope="row">{from === null ? '(new ticket)' : (draft.stages.find((s) => s.key === from)?.name ?? from)}</th>
                      {draft.stages.map((to) => (
                        <td key={to.key}>
                          <input
                            type="checkbox"
                            aria-label={`${from ?? 'new ticket'} to ${to.key}`}
                            disabled={from === to.key}
                            checked={draft.transitions!.has(pair(from, to.key))}
                            onChange={() => toggleTransition(from, to.key)}
                          />
                        </td>
                      ))}
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </fieldset>

        <fieldset className="card">
          <legend>Business calendar</legend>
          <label className="check">
            <input
              type="checkbox"
              checked={draft.calendar === null}
              onChange={(e) =>
                setDraft({
                  ...draft,
                  calendar: e.target.checked
                    ? null
                    : {
                        time_zone: Intl.DateTimeFormat().resolvedOptions().timeZone,
                        working_days: [1, 2, 3, 4, 5],
                        working_hours: { start: '09:00', end: '17:00' },
                        holidays: [],
                      },
                })
              }
            />{' '}
            Around the clock (targets count every hour)
          </label>
          {draft.calendar && (
            <div className="filters">
              <label>
                Time zone{' '}
                <input
                  value={draft.calendar.time_zone}
                  onChange={(e) => setDraft({ ...draft, calendar: { ...draft.calendar!, time_zone: e.target.value } })}
                />
              </label>
              <fieldset className="days">
                <legend>Working days</legend>
                {weekdays.map((day, index) => (
                  <label key={day} className="check">
                    <input
                      type="checkbox"
                      checked={draft.calendar!.working_days.includes(index + 1)}
                      onChange={(e) => {
                        const days = new Set(draft.calendar!.working_days);
                        if (e.target.checked) days.add(index + 1);
                        else days.delete(index + 1);
                        setDraft({ ...draft, calendar: { ...draft.calendar!, working_days: [...days].sort() } });
                      }}
                    />
                    {day}
                  </label>
                ))}
              </fieldset>
              <label>
                From
                <input
                  type="time"
                  value={draft.calendar.working_hours.start}
                  onChange={(e) =>
                    setDraft({
                      ...draft,
                      calendar: { ...draft.calendar!, working_hours: { ...draft.calendar!.working_hours, start: e.target.value } },
                    })
                  }
                />
              </label>
              <label>
                To
                <input
                  type="time"
                  value={draft.calendar.working_hours.end}
                  onChange={(e) =>
                    setDraft({
                      ...draft,
                      calendar: { ...draft.calendar!, working_hours: { ...draft.calendar!.working_hours, end: e.target.value } },
                    })
                  }
                />
              </label>
              <label className="grow">
                Holidays
                <input
                  value={draft.calendar.holidays.join(', ')}
                  placeholder="2026-12-25, 2026-12-26"
                  onChange={(e) =>
                    setDraft({ ...draft, calendar: { ...draft.calendar!, holidays: e.target.value.split(/[\s,]+/).filter(Boolean) } })
                  }
                />
              </label>
            </div>
          )}
        </fieldset>
        {save.isError && <ErrorState error={save.error} />}
        {save.isSuccess && <p className="notice">Saved. Tickets already in a stage keep their history.</p>}
        <div className="actions">
          <button type="submit" className="primary" disabled={save.isPending}>
            {draft.id ? 'Save workflow' : 'Create project'}
          </button>
        </div>
      </form>
      {saved && <ProjectFields project={saved} />}
    </>
  );
}
