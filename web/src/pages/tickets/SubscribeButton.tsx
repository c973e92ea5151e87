import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { getData, send } from '../../api/http';
import type { ViewSubscription } from '../../api/types';

/** Mail about tickets that match a view: subscribe or stop, one button that says which it is. */
export function SubscribeButton({ viewId }: { viewId: string }) {
  const queryClient = useQueryClient();
  const path = `/api/views/${encodeURIComponent(viewId)}/subscriptions`;
  const queryKey = ['view-subscription', viewId];
  const subscription = useQuery({ queryKey, queryFn: () => getData<ViewSubscription>(path) });
  const change = useMutation({
    mutationFn: (subscribe: boolean) => send<ViewSubscription>(subscribe ? 'POST' : 'DELETE', path, subscribe ? {} : undefined),
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
