import { Body, Controller, Get, HttpCode, Inject, Param, Post, UseGuards } from '@nestjs/common';
import { userKey, type PresenceDeviceEvent, type PresenceUserState } from '@app/contracts';
import { EventProducer, outbound } from '@app/kafka';
import { ApiKeyGuard, ProblemException, ZodPipe } from '@app/http';
import { partitionOf } from './partition.util';
import { PresenceConsumer } from './presence.consumer';
import {
  DevicePathSchema,
  PresenceReportSchema,
  UserPathSchema,
  type PresenceReport,
} from './presence-report.dto';
import { PresenceService } from './presence.service';
import { PRESENCE_TOPICS, type PresenceTopics } from './presence.topics';

@Controller('v1/apps/:appId/users/:userId')
@UseGuards(ApiKeyGuard)
export class PresenceController {
  constructor(
    private readonly producer: EventProducer,
    private readonly presence: PresenceService,
    private readonly consumer: PresenceConsumer,
    @Inject(PRESENCE_TOPICS) private readonly topics: PresenceTopics,
  ) {}

  /**
   * The app's report becomes a `presence.device-event.v1` like the gateways' events, so one state
   * machine sees both in order; 202 once Kafka has acknowledged it.
   */
  @Post('devices/:deviceId/presence')
  @HttpCode(202)
  async report(
    @Param(new ZodPipe(DevicePathSchema)) path: { appId: string; userId: string; deviceId: string },
    @Body(new ZodPipe(PresenceReportSchema)) body: PresenceReport,
  ): Promise<{ accepted: PresenceDeviceEvent }> {
    const event: PresenceDeviceEvent = {
      ...path,
      platform: body.platform ?? 'ios',
      type: body.type,
      at: new Date().toISOString(),
      ...(body.unreadCount !== undefined ? { unreadCount: body.unreadCount } : {}),
    };
    try {
      await this.producer.send([outbound(this.topics.deviceEvent, event)]);
    } catch (e) {
      throw new ProblemException(503, 'KAFKA_UNAVAILABLE', `not recorded: ${(e as Error).message}`);
    }
    return { accepted: event };
  }

  @Get('presence')
  read(
    @Param(new ZodPipe(UserPathSchema)) path: { appId: string; userId: string },
  ): PresenceUserState {
    const partition = partitionOf(userKey(path), this.consumer.partitions());
    const view = this.presence.view(path.appId, path.userId, partition);
    if (view === 'not_owner')
      throw new ProblemException(
        421,
        'NOT_OWNER',
        `partition ${partition} of user ${path.userId} is held by another presence instance`,
      );
    if (!this.consumer.isRestored())
      throw new ProblemException(503, 'RESTORING', 'presence state is still being restored');
    if (view === 'unknown')
      throw new ProblemException(404, 'PRESENCE_UNKNOWN', `no presence known for ${path.userId}`);
    return view;
  }
}
