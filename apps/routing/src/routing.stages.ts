import {
  Inject,
  Injectable,
  Logger,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { TOPICS } from '@app/contracts';
import { ServiceConfig } from '@app/config';
import { EventProducer, KafkaHealthIndicator, ensureTopics } from '@app/kafka';
import { Kafka } from 'kafkajs';
import { DecideStage } from './decide/decide.stage';
import { FanoutStage } from './fanout/fanout.stage';
import { startNewGroupAtEnd } from './new-group-offsets.util';
import { routingSettings, type RoutingEnv, type RoutingSettings } from './routing-env.schema';

/** The topics routing reads or writes: created when missing, partition counts checked at boot. */
export const ROUTING_TOPICS = [
  TOPICS.imMessageSent,
  TOPICS.imGroupMembers,
  TOPICS.pushIntent,
  TOPICS.presenceUserState,
  TOPICS.tokenUserDevices,
  TOPICS.routingBadgeState,
  TOPICS.apnsRequest,
  TOPICS.fcmRequest,
  TOPICS.pushOutcome,
  TOPICS.deadLetter,
];

/** Starts and stops the fan-out and decide stages this instance runs. */
@Injectable()
export class RoutingStages implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(RoutingStages.name);
  private starting: Promise<void> | undefined;
  private stopping = false;
  readonly fanout?: FanoutStage;
  readonly decide?: DecideStage;
  private readonly settings: RoutingSettings;
  /** The fan-out's own producer: its chunks never interleave with other sends (see docs). */
  private readonly fanoutProducer: EventProducer;

  constructor(
    @Inject(ServiceConfig) private readonly config: ServiceConfig<RoutingEnv>,
    private readonly kafka: Kafka,
    producer: EventProducer,
    private readonly health: KafkaHealthIndicator,
  ) {
    const env = (this.settings = routingSettings(config.env));
    this.fanoutProducer = new EventProducer(kafka);
    if (env.ROUTING_FANOUT)
      this.fanout = new FanoutStage(kafka, this.fanoutProducer, config.apps, {
        groupId: env.ROUTING_FANOUT_GROUP,
        chunk: env.ROUTING_FANOUT_CHUNK,
        unknownGroupGraceMs: env.ROUTING_UNKNOWN_GROUP_GRACE_MS,
      });
    if (env.ROUTING_DECIDE)
      this.decide = new DecideStage(kafka, producer, config.apps, {
        groupId: env.ROUTING_DECIDE_GROUP,
        dedupeWindow: env.ROUTING_DEDUPE_WINDOW,
      });
  }

  private stages() {
    return [this.fanout, this.decide].filter((s) => s !== undefined);
  }

  /**
   * Starts in the background so that the HTTP server (health, the messages API) is up even while
   * Kafka is not: readiness stays 503 until the stages run and their state is restored. Passing
   * broker errors (a coordinator still loading, a broker down) are retried with backoff; a topic
   * with the wrong partition count stops the process.
   */
  onApplicationBootstrap(): void {
    this.starting = this.startWhenKafkaAnswers();
  }

  private async startWhenKafkaAnswers(): Promise<void> {
    let delay = 500;
    for (;;) {
      if (this.stopping) return;
      try {
        await this.prepareTopicsAndOffsets();
        break;
      } catch (e) {
        const err = e as Error;
        if (err.message.startsWith('partition count differs')) {
          this.logger.fatal({ msg: 'cannot start routing', err: err.message });
          process.exit(1);
        }
        this.logger.warn({
          msg: 'Kafka not ready for routing yet; retrying',
          err: err.message,
          delayMs: delay,
        });
        await new Promise((r) => setTimeout(r, delay));
        delay = Math.min(delay * 2, 10000);
      }
    }
    for (const stage of this.stages()) {
      if (this.stopping) return;
      this.health.track(stage.runner);
      await stage.start();
    }
    const deadline = Date.now() + this.settings.ROUTING_BOOT_RESTORE_WAIT_MS;
    while (Date.now() < deadline && !this.isRestored())
      await new Promise((r) => setTimeout(r, 100));
    this.logger.log({ msg: 'routing stages started', restored: this.isRestored() });
  }

  private async prepareTopicsAndOffsets(): Promise<void> {
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      // A routing topic with another partition count would split a user's state: refuse to start.
      await ensureTopics(
        admin,
        {
          partitions: this.config.env.KAFKA_PARTITIONS,
          replicationFactor: this.config.env.KAFKA_REPLICATION_FACTOR,
        },
        ROUTING_TOPICS as never,
      );
      if (this.settings.ROUTING_NEW_GROUP_START === 'latest') {
        const inputs = [
          [this.fanout, this.settings.ROUTING_FANOUT_GROUP, TOPICS.imMessageSent.name],
          [this.decide, this.settings.ROUTING_DECIDE_GROUP, TOPICS.pushIntent.name],
        ] as const;
        for (const [stage, group, topic] of inputs) {
          if (stage && (await startNewGroupAtEnd(admin, group, topic)))
            this.logger.log({ msg: 'new consumer group starts at the end', group, topic });
        }
      }
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
  }

  isRestored(): boolean {
    return this.stages().every((s) => s.runner.isRestored());
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopping = true;
    await this.starting?.catch(() => undefined);
    await Promise.all(this.stages().map((s) => s.stop()));
    for (const s of this.stages()) this.health.untrack(s.runner);
    await this.fanoutProducer.disconnect();
  }
}
