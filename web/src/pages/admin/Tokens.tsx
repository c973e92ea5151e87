import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type { FormEvent } from 'react';
import { api, dataOf, pageOf } from '../../api/client';
import type { RequestBody } from '../../api/types';
import { ErrorState, QueryState } from '../../components/States';
import { Time } from '../../components/Time';
import { Table } from '../../components/Table';

export function Tokens() {
  const queryClient = useQueryClient();
  const tokens = useQuery({ queryKey: ['tokens'], queryFn: () => pageOf(api.GET('/api/tokens', { params: { query: { limit: 500 } } })) });
  const refresh = () => void queryClient.invalidateQueries({ queryKey: ['tokens'] });
  const create = useMutation({
    mutationFn: (body: RequestBody<'/api/tokens', 'post'>) => dataOf(api.POST('/api/tokens', { body })),
    onSuccess: refresh,
  });
  const revoke = useMutation({
    mutationFn: (id: string) => api.DELETE('/api/tokens/{id}', { params: { path: { id } } }),
    onSuccess: refresh,
  });

  const submit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = Object.fromEntries(new FormData(event.currentTarget)) as Record<string, string>;
    create.mutate({
      name: form.name,
      scope: form.scope === 'read' ? 'read' : 'read-write',
      ...(form.expires_at ? { expires_at: new Date(`${form.expires_at}T23:59:59`).toISOString() } : {}),
    });
  };

  return (
    <div className="stack">
      <form className="card filters" onSubmit={submit} aria-label="New API token">
        <label>
          Name <input name="name" required placeholder="e.g. CI export" />
        </label>
        <label>
          Scope
          <select name="scope" defaultValue="read">
            <option value="read">read</option>
            <option value="read-write">read-write</option>
          </select>
        </label>
        <label>
          Expires <input name="expires_at" type="date" />
        </label>
        <button type="submit" className="primary" disabled={create.isPending}>
          Create token
        </button>
      </form>
      {create.data?.token && (
        <div className="notice" role="status">
          <p>
            Copy the token now; it is not shown again: <code className="secret">{create.data.token}</code>
          </p>
        </div>
      )}
      {create.isError && <ErrorState error={create.error} />}
      {revoke.isError && <ErrorState error={revoke.error} />}
      <QueryState query={tokens} isEmpty={(data) => data.items.length === 0} empty="No API tokens.">
        {(data) => (
          <Table headers={['Name', 'Scope', 'Created', 'Last used', 'Expires']} actions>
            {data.items.map((token) => (
              <tr key={token.id}>
                <td data-label="Name">{token.name}</td>
                <td data-label="Scope">{token.scope}</td>
                <td data-label="Created">
                  <Time iso={token.created_at} />
                </td>
                <td data-label="Last used">
                  <Time iso={token.last_used_at} />
                </td>
                <td data-label="Expires">
                  <Time iso={token.expires_at} kind="any" />
                </td>
                <td>
                  <button
                    type="button"
                    onClick={() =>
                      window.confirm(`Revoke the token “${token.name}”? Programs using it stop working.`) && revoke.mutate(token.id)
                    }
                  >
                    Revoke
                  </button>
                </td>
              </tr>
            ))}
          </Table>
        )}
      </QueryState>
    </div>
  );
}
