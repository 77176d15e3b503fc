import {
  Injectable,
  Logger,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { ServiceConfig } from '@app/config';
import { TOPICS, userKey, type PresenceUserState, type TokenUserDevices } from '@app/contracts';
import { ProblemException } from '@app/http';
import { BackgroundStart, KeyLookup } from '@app/kafka';
import { Kafka } from 'kafkajs';
import { randomUUID } from 'node:crypto';
import type { DeliveryReportsEnv } from '../reports-env.schema';

export interface UserRecords {
  tokens: TokenUserDevices | null | undefined;
  presence: PresenceUserState | null | undefined;
}

/**
 * Reads a user's current `token.user-devices.v1` and `presence.user-state.v1` values from the
 * compacted topics, on demand (services share nothing but Kafka): two readers of one key
 * (`KeyLookup`), each a consumer group of its own per process, every partition paused between
 * lookups. A lookup is bounded by `DELIVERY_REPORTS_DIAGNOSIS_TIMEOUT_MS`: past it, a 503.
 */
@Injectable()
export class DiagnosisReader implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly tokens: KeyLookup<TokenUserDevices>;
  private readonly presence: KeyLookup<PresenceUserState>;
  private readonly timeoutMs: number;
  private readonly starter = new BackgroundStart({
    logger: new Logger(DiagnosisReader.name),
    what: 'the diagnosis readers',
  });

  constructor(kafka: Kafka, config: ServiceConfig<DeliveryReportsEnv>) {
    // Groups of their own per process: each must hold every partition, never share them.
    const base = `delivery-reports-diagnosis-${config.instanceId}-${randomUUID().slice(0, 8)}`;
    this.tokens = new KeyLookup(kafka, TOPICS.tokenUserDevices, `${base}-tokens`);
    this.presence = new KeyLookup(kafka, TOPICS.presenceUserState, `${base}-presence`);
    this.timeoutMs = config.env.DELIVERY_REPORTS_DIAGNOSIS_TIMEOUT_MS;
  }

  onApplicationBootstrap(): void {
    this.starter.run(
      () => Promise.all([this.tokens.start(), this.presence.start()]).then(() => undefined),
      () => Promise.all([this.tokens.stop(), this.presence.stop()]).then(() => undefined),
    );
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.starter.stop();
    await Promise.all([this.tokens.stop(), this.presence.stop()]);
  }

  /** Both values of the user, read at once; a 503 problem when Kafka does not answer in time. */
  async read(appId: string, userId: string): Promise<UserRecords> {
    const key = userKey({ appId, userId });
    try {
      const [tokens, presence] = await Promise.all([
        this.tokens.findKey(key, this.timeoutMs),
        this.presence.findKey(key, this.timeoutMs),
      ]);
      return { tokens, presence };
    } catch (err) {
      throw new ProblemException(
        503,
        'KAFKA_TIMEOUT',
        `the user's devices and presence could not be read from Kafka within ${this.timeoutMs} ms (${(err as Error).message})`,
        undefined,
        { 'Retry-After': String(Math.ceil(this.timeoutMs / 1000)) },
      );
    }
  }
}
