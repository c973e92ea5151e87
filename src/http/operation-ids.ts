/**
 * The `operationId` of every documented route, by `METHOD /url` as registered. Client generators turn these
 * into method names, so they are part of the contract: never rename one, add one for every new route (the
 * contract test fails on a documented route without an id, on an id used twice and on an entry without a route).
 * The older systems' routes carry a `legacy` prefix.
 */
export const operationIds: Record<string, string> = {
  // System
  'GET /healthz': 'getHealth',
  'GET /readyz': 'getReadiness',
  'GET /metrics': 'getMetrics',

  // Accounts
  'POST /api/auth/login': 'login',
  'POST /api/auth/logout': 'logout',
  'GET /api/me': 'getMe',
  'GET /api/tokens': 'listTokens',
  'POST /api/tokens': 'createToken',
  'DELETE /api/tokens/:id': 'revokeToken',
  'GET /api/users': 'listUsers',
  'POST /api/users': 'createUser',
  'GET /api/users/:id': 'getUser',
  'PATCH /api/users/:id': 'updateUser',
  'DELETE /api/users/:id': 'deleteUser',
  'GET /api/audit': 'listAuditEntries',

  // Tickets and stages
  'GET /api/tickets': 'listTickets',
  'POST /api/tickets': 'createTicket',
  'GET /api/tickets/:id': 'getTicket',
  'PUT /api/tickets/:id': 'replaceTicket',
  'PATCH /api/tickets/:id': 'updateTicket',
  'DELETE /api/tickets/:id': 'deleteTicket',
  'GET /api/tickets/export': 'exportTickets',
  'GET /api/stages': 'listStages',
  'POST /api/stages': 'createStage',
  'GET /api/stages/:id': 'getStage',
  'PUT /api/stages/:id': 'replaceStage',
  'PATCH /api/stages/:id': 'updateStage',
  'DELETE /api/stages/:id': 'deleteStage',
  'GET /api/stages/export': 'exportStages',

  // Projects and workflow
  'GET /api/projects': 'listProjects',
  'POST /api/projects': 'createProject',
  'GET /api/projects/:id': 'getProject',
  'PUT /api/projects/:id': 'replaceProject',
  'PATCH /api/projects/:id': 'updateProject',
  'POST /api/tickets/:id/transitions': 'transitionTicket',
  'GET /api/tickets/:id/timeline': 'getTicketTimeline',
  'GET /api/tickets/:id/history': 'getTicketHistory',
  'POST /api/tickets/:id/comments': 'addTicketComment',
  'GET /api/board': 'getBoard',

  // Monitor and live updates
  'GET /api/monitor/overview': 'getMonitorOverview',
  'GET /api/monitor/delayed': 'listDelayedTickets',
  'GET /api/monitor/stages': 'getStageStatistics',
  'GET /api/monitor/throughput': 'getThroughput',
  'GET /api/monitor/flow': 'getFlow',
  'GET /api/monitor/aging': 'getAging',
  'GET /api/monitor/likely': 'listLikelyToBreach',
  'POST /api/forecast/refresh': 'refreshForecastModels',
  'GET /api/events': 'streamEvents',

  // Search and saved views
  'GET /api/search/help': 'getSearchHelp',
  'GET /api/views': 'listViews',
  'POST /api/views': 'createView',
  'GET /api/views/:id': 'getView',
  'PUT /api/views/:id': 'replaceView',
  'PATCH /api/views/:id': 'updateView',
  'DELETE /api/views/:id': 'deleteView',
  'GET /api/views/:id/count': 'countViewTickets',

  // OPS
  'POST /api/ops/:id': 'sendToOps',
  'POST /api/ops/:id/retry': 'retryOpsHandoff',
  'GET /api/status/:id': 'getOpsStatus',
  'GET /api/ops/queue': 'getOpsQueue',
  'GET /api/logs': 'listOpsLogs',
  'GET /api/tickets/:id/logs': 'listTicketOpsLogs',
  'GET /api/tickets/:id/ops': 'getTicketOpsHandOff',
  'POST /api/ops/callback': 'receiveOpsCallback',
  'POST /api/import': 'importTickets',

  // Notifications
  'GET /api/me/notifications': 'getNotificationSettings',
  'PUT /api/me/notifications': 'updateNotificationSettings',
  'GET /api/tickets/:id/watchers': 'listWatchers',
  'POST /api/tickets/:id/watchers': 'watchTicket',
  'DELETE /api/tickets/:id/watchers': 'unwatchTicket',
  'DELETE /api/tickets/:id/watchers/:userId': 'removeWatcher',
  'GET /api/views/:id/subscriptions': 'getViewSubscription',
  'POST /api/views/:id/subscriptions': 'subscribeToView',
  'DELETE /api/views/:id/subscriptions': 'unsubscribeFromView',
  'GET /api/notifications/deliveries': 'listMailDeliveries',
  'GET /api/notifications/deliveries/:id': 'getMailDelivery',
  'GET /api/notifications/unsubscribe': 'getUnsubscribePage',
  'POST /api/notifications/unsubscribe': 'unsubscribe',

  // Webhooks
  'GET /api/webhooks': 'listWebhooks',
  'POST /api/webhooks': 'createWebhook',
  'GET /api/webhooks/:id': 'getWebhook',
  'PATCH /api/webhooks/:id': 'updateWebhook',
  'DELETE /api/webhooks/:id': 'deleteWebhook',
  'GET /api/webhooks/:id/deliveries': 'listWebhookDeliveries',
  'POST /api/webhooks/:id/deliveries/:delivery/redeliver': 'redeliverWebhookDelivery',
  'POST /api/webhooks/:id/ping': 'pingWebhook',

  // The older systems' routes
  'GET /tickets': 'legacyListTickets',
  'POST /tickets': 'legacyCreateTicket',
  'GET /tickets/:id': 'legacyGetTicket',
  'PUT /tickets/:id': 'legacyUpdateTicket',
  'DELETE /tickets/:id': 'legacyDeleteTicket',
  'GET /stages': 'legacyListStages',
  'POST /stages': 'legacyCreateStage',
  'GET /stages/:id': 'legacyGetStage',
  'PUT /stages/:id': 'legacyUpdateStage',
};
