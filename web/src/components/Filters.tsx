import { useQuery } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import { api, dataOf } from '../api/client';
import type { MonitorFilters } from '../lib/useFilters';

export function useProjects(enabled = true) {
  return useQuery({
    enabled,
    queryKey: ['projects'],
    queryFn: () => dataOf(api.GET('/api/projects', { params: { query: { limit: 200 } } })),
    staleTime: 60_000,
  });
}

/** A text input that reports its value after the viewer pauses typing. */
export function DebouncedInput({
  value,
  onChange,
  ...rest
}: { value: string; onChange(value: string): void } & Omit<React.InputHTMLAttributes<HTMLInputElement>, 'onChange'>) {
  const [draft, setDraft] = useState(value);
  useEffect(() => setDraft(value), [value]);
  useEffect(() => {
    if (draft === value) return;
    const timer = setTimeout(() => onChange(draft), 350);
    return () => clearTimeout(timer);
  }, [draft, value, onChange]);
  return <input {...rest} value={draft} onChange={(event) => setDraft(event.target.value)} />;
}

export function ProjectSelect({ value, onChange, allowAll = true }: { value: string; onChange(v: string): void; allowAll?: boolean }) {
  const projects = useProjects();
  return (
    <label>
      Project
      <select value={value} onChange={(event) => onChange(event.target.value)}>
        {allowAll && <option value="">All projects</option>}
        {(projects.data ?? []).map((project) => (
          <option key={project.id} value={project.key}>
            {project.name}
          </option>
        ))}
      </select>
    </label>
  );
}

export function PrioritySelect({ value, onChange }: { value: string; onChange(value: string): void }) {
  return (
    <label>
      Priority
      <select value={value} onChange={(event) => onChange(event.target.value)}>
        <option value="">Any</option>
        <option value="high">High</option>
        <option value="medium">Medium</option>
        <option value="low">Low</option>
      </select>
    </label>
  );
}

export function MonitorFilterBar({ filters, set }: { filters: MonitorFilters; set(changes: Partial<MonitorFilters>): void }) {
  return (
    <form className="filters" role="search" aria-label="Filters" onSubmit={(event) => event.preventDefault()}>
      <ProjectSelect value={filters.project} onChange={(project) => set({ project })} />
      <label>
        Customer
        <DebouncedInput value={filters.customer} onChange={(customer) => set({ customer })} placeholder="name or email" />
      </label>
      <label>
        Assignee
        <DebouncedInput value={filters.assigned_to} onChange={(assigned_to) => set({ assigned_to })} />
      </label>
      <PrioritySelect value={filters.priority} onChange={(priority) => set({ priority })} />
      <label>
        From
        <input type="date" value={filters.from} onChange={(event) => set({ from: event.target.value })} />
      </label>
      <label>
        To
        <input type="date" value={filters.to} onChange={(event) => set({ to: event.target.value })} />
      </label>
    </form>
  );
}
