import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, dataOf } from '../../api/client';

/** Mail about tickets that match a view: subscribe or stop, one button that says which it is. */
export function SubscribeButton({ viewId }: { viewId: string }) {
  const queryClient = useQueryClient();
  const params = { path: { id: viewId } };
  const queryKey = ['view-subscription', viewId];
  const subscription = useQuery({ queryKey, queryFn: () => dataOf(api.GET('/api/views/{id}/subscriptions', { params })) });
  const change = useMutation({
    mutationFn: (subscribe: boolean) =>
      dataOf(
        subscribe
          ? api.POST('/api/views/{id}/subscriptions', { params, body: {} })
          : api.DELETE('/api/views/{id}/subscriptions', { params }),
      ),
    onSuccess: (answer) => queryClient.setQueryData(queryKey, answer),
  });
  const subscribed = subscription.data?.subscribed ?? false;
  return (
    <button
      type="button"
      className="link"
      aria-pressed={subscribed}
      disabled={!subscription.data || change.isPending}
      title={change.error?.message ?? (subscribed ? 'You get mail about tickets in this view' : 'Get mail about tickets in this view')}
      onClick={() => change.mutate(!subscribed)}
    >
      {subscribed ? 'Unsubscribe' : 'Subscribe'}
    </button>
  );
}
