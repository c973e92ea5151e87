/** `{ a: 1 }` or `[{ key: 'a', count: 1 }]` → `[['a', 1]]`: counts keyed by name, whichever way a route lists them. */
export function countsOf(value: unknown, keyFields = ['status', 'stage', 'key', 'name', 'bucket', 'label']): [string, number][] {
  if (Array.isArray(value)) {
    return value.map((row: Record<string, unknown>) => {
      const key = keyFields.map((field) => row[field]).find((candidate) => typeof candidate === 'string') as string;
      return [key ?? '?', Number(row.count ?? row.tickets ?? row.value ?? 0)];
    });
  }
  if (value && typeof value === 'object') return Object.entries(value).map(([key, count]) => [key, Number(count)]);
  return [];
}

export function numberOf(record: Record<string, unknown> | undefined, ...fields: string[]): number | undefined {
  for (const field of fields) {
    const value = field.split('.').reduce<unknown>((at, part) => (at as Record<string, unknown> | undefined)?.[part], record);
    if (typeof value === 'number') return value;
  }
  return undefined;
}
