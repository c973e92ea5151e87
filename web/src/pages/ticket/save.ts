import { useMutation, useQueryClient } from '@tanstack/react-query';
import { api, dataOf } from '../../api/client';
import { ApiError } from '../../api/http';
import type { RequestBody, Ticket } from '../../api/types';

type Change = Omit<RequestBody<'/api/tickets/{id}', 'patch'>, 'version'>;

/**
 * Saves one change to the ticket from its page, against the version shown: the answer becomes the ticket and the lists
 * and history refetch. When someone else changed it meanwhile (412) the ticket reloads and the caller keeps its
 * draft to retry.
 */
export function useTicketSave(ticket: Ticket, onSaved: () => void) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (change: Change) =>
      dataOf(api.PATCH('/api/tickets/{id}', { params: { path: { id: ticket.id } }, body: { ...change, version: ticket.version } })),
    onSuccess: (updated) => {
      queryClient.setQueryData(['ticket', ticket.id], updated);
      onSaved();
      void queryClient.invalidateQueries({ queryKey: ['tickets'] });
      void queryClient.invalidateQueries({ queryKey: ['history', ticket.id] });
    },
    onError: (error) => {
      if (error instanceof ApiError && error.status === 412) void queryClient.invalidateQueries({ queryKey: ['ticket', ticket.id] });
    },
  });
}
