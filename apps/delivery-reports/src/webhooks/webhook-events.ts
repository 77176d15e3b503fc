import type { WebhookEvent } from '@app/config';
import type { OutcomeStatus } from '@app/contracts';

/**
 * The webhook event of each push.outcome.v1 status: `delivered` is announced as `sent`, the other
 * statuses under their own name. Exhaustive: a new status fails the type check here.
 */
export const EVENT_OF_STATUS: Readonly<Record<OutcomeStatus, WebhookEvent>> = {
  delivered: 'sent',
  suppressed: 'suppressed',
  invalid_token: 'invalid_token',
  rejected: 'rejected',
  expired: 'expired',
  failed: 'failed',
};
