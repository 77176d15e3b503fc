import { Counter, Histogram } from 'prom-client';

/** Metrics of the FCM dispatcher beyond the shared `push_dispatch_*` ones (`@app/dispatch`). */
export const fcmMetrics = {
  sendEachSize: new Histogram({
    name: 'push_fcm_send_each_messages',
    help: 'Messages per firebase-admin sendEach call',
    labelNames: ['app'] as const,
    buckets: [1, 10, 50, 100, 250, 500],
  }),
  requestsAborted: new Counter({
    name: 'push_fcm_requests_aborted_total',
    help: 'FCM send requests aborted because their sendEach passed FCM_SEND_TIMEOUT_MS (their messages are retried)',
    labelNames: ['app'] as const,
  }),
};
