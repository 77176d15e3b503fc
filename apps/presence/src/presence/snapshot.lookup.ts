import type { PresenceUserState } from '@app/contracts';
import { KeyLookup } from '@app/kafka';

/**
 * Reads one user's snapshot from the compacted topic, for users of partitions another instance
 * owns: the platform's reader of one key of a compacted topic (`KeyLookup`, in @app/kafka).
 */
export class SnapshotLookup extends KeyLookup<PresenceUserState> {}
