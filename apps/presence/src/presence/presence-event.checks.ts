import { userKey, type PresenceDeviceEvent } from '@app/contracts';
import type { AppsRegistry } from '@app/config';
import type { ConsumedRecord } from '@app/kafka';

export interface EventRejection {
  code: 'KEY_MISMATCH' | 'UNKNOWN_APP' | 'EVENT_IN_FUTURE';
  message: string;
}

/**
 * What the schema cannot check: the record sits on its user's partition (otherwise its state
 * would split across instances), the app exists, and the clock of the sender is sane (an event
 * far in the future would freeze the device, since older events never override newer ones).
 */
export function checkEvent(
  rec: ConsumedRecord<PresenceDeviceEvent>,
  apps: AppsRegistry,
  now: number,
  maxSkewMs: number,
): EventRejection | undefined {
  const e = rec.value;
  const key = userKey(e);
  if (rec.key !== key) {
    return {
      code: 'KEY_MISMATCH',
      message: `the record key must be "${key}" (appId:userId), got ${rec.key === null ? 'none' : `"${rec.key}"`}`,
    };
  }
  if (!apps.get(e.appId)) return { code: 'UNKNOWN_APP', message: `unknown app id "${e.appId}"` };
  const at = Date.parse(e.at);
  if (at > now + maxSkewMs) {
    return {
      code: 'EVENT_IN_FUTURE',
      message: `at ${e.at} is more than ${maxSkewMs / 1000} s ahead of this server's clock`,
    };
  }
  return undefined;
}
