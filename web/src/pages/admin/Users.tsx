import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { api, pageOf } from '../../api/client';
import { roles, type RequestBody, type Role } from '../../api/types';
import { ErrorState, QueryState } from '../../components/States';
import { Time } from '../../components/Time';
import { Table } from '../../components/Table';

export function Users() {
  const queryClient = useQueryClient();
  const users = useQuery({ queryKey: ['users'], queryFn: () => pageOf(api.GET('/api/users', { params: { query: { limit: 500 } } })) });
  const refresh = () => void queryClient.invalidateQueries({ queryKey: ['users'] });
  const create = useMutation({
    mutationFn: (body: RequestBody<'/api/users', 'post'>) => api.POST('/api/users', { body }),
    onSuccess: refresh,
  });
  const update = useMutation({
    mutationFn: ({ id, ...body }: { id: string } & RequestBody<'/api/users/{id}', 'patch'>) =>
      api.PATCH('/api/users/{id}', { params: { path: { id } }, body }),
    onSuccess: refresh,
  });
  const [role, setRole] = useState<Role>('agent');

  const submit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = Object.fromEntries(new FormData(event.currentTarget)) as Record<string, string>;
    const customerEmails = form.customer_emails?.split(/[\s,]+/).filter(Boolean);
    create.mutate(
      {
        name: form.name,
        email: form.email,
        password: form.password,
        role,
        ...(role === 'customer' && customerEmails?.length ? { customer_emails: customerEmails } : {}),
      },
      { onSuccess: () => (event.target as HTMLFormElement).reset() },
    );
  };

  return (
    <div className="stack">
      <form className="card filters" onSubmit={submit} aria-label="New user">
        <label>
          Name <input name="name" required />
        </label>
        <label>
          Email <input name="email" type="email" required />
        </label>
        <label>
          Password <input name="password" type="password" minLength={8} required autoComplete="new-password" />
        </label>
        <label>
          Role
          <select value={role} onChange={(event) => setRole(event.target.value as Role)}>
            {roles.map((r) => (
              <option key={r}>{r}</option>
            ))}
          </select>
        </label>
        {role === 'customer' && (
          <label>
            Customer emails <input name="customer_emails" placeholder="a@example.com, b@example.com" />
          </label>
        )}
        <button type="submit" className="primary" disabled={create.isPending}>
          Add user
        </button>
      </form>
      {create.isError && <ErrorState error={create.error} />}
      {update.isError && <ErrorState error={update.error} />}
      <QueryState query={users} isEmpty={(data) => data.items.length === 0} empty="No users.">
        {(data) => (
          <Table headers={['Name', 'Email', 'Role', 'Created', 'Status']}>
            {data.items.map((user) => (
              <tr key={user.id}>
                <td data-label="Name">{user.name}</td>
                <td data-label="Email">{user.email}</td>
                <td data-label="Role">
                  <select
                    aria-label={`Role of ${user.name}`}
                    value={user.role}
                    onChange={(event) => update.mutate({ id: user.id, role: event.target.value as Role })}
                  >
                    {roles.map((r) => (
                      <option key={r}>{r}</option>
                    ))}
                  </select>
                </td>
                <td data-label="Created">
                  <Time iso={user.created_at} />
                </td>
                <td data-label="Status">
                  <button type="button" onClick={() => update.mutate({ id: user.id, disabled: !user.disabled })}>
                    {user.disabled ? 'Enable' : 'Disable'}
                  </button>{' '}
                  {user.disabled && <span className="badge bad">disabled</span>}
                </td>
              </tr>
            ))}
          </Table>
        )}
      </QueryState>
    </div>
  );
}
