import {
  Inject,
  Injectable,
  Logger,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { TOPICS } from '@app/contracts';
import { ServiceConfig } from '@app/config';
import { BackgroundStart, EventProducer, KafkaHealthIndicator, ensureTopics } from '@app/kafka';
import { Kafka } from 'kafkajs';
import { DecideStage } from './decide/decide.stage';
import { FanoutStage } from './fanout/fanout.stage';
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
  private stopping = false;
  private readonly starter = new BackgroundStart({
    what: 'the routing stages',
    logger: this.logger,
    isFatal: (e) => e.message.startsWith('partition count differs'),
    initialDelayMs: 500,
    maxDelayMs: 10000,
  });
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
        newGroupStart: env.ROUTING_NEW_GROUP_START,
      });
    if (env.ROUTING_DECIDE)
      this.decide = new DecideStage(kafka, producer, config.apps, {
        groupId: env.ROUTING_DECIDE_GROUP,
        dedupeWindow: env.ROUTING_DEDUPE_WINDOW,
        dedupeSeconds: env.ROUTING_DEDUPE_SECONDS,
        newGroupStart: env.ROUTING_NEW_GROUP_START,
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
    this.starter.run(
      async () => {
        await this.ensureRoutingTopics();
        for (const stage of this.stages()) {
          this.health.track(stage.runner);
          await stage.start();
        }
        if (this.fanout) this.health.track(this.fanout.membershipCheck);
        const deadline = Date.now() + this.settings.ROUTING_BOOT_RESTORE_WAIT_MS;
        while (Date.now() < deadline && !this.stopping && !this.isRestored())
          await new Promise((r) => setTimeout(r, 100));
        this.logger.log({ msg: 'routing stages started', restored: this.isRestored() });
      },
      async () => {
        await Promise.all(this.stages().map((s) => s.stop()));
      },
    );
  }

  /** A routing topic with another partition count would split a user's state: refuse to start. */
  private async ensureRoutingTopics(): Promise<void> {
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      await ensureTopics(
        admin,
        {
          partitions: this.config.env.KAFKA_PARTITIONS,
          replicationFactor: this.config.env.KAFKA_REPLICATION_FACTOR,
        },
        ROUTING_TOPICS as never,
      );
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
  }

  isRestored(): boolean {
    return this.stages().every((s) => s.runner.isRestored());
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopping = true;
    await this.starter.stop();
    await Promise.all(this.stages().map((s) => s.stop()));
    for (const s of this.stages()) this.health.untrack(s.runner);
    if (this.fanout) this.health.untrack(this.fanout.membershipCheck);
    await this.fanoutProducer.disconnect();
  }
}
