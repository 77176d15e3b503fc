import {
  Body,
  Controller,
  Get,
  HttpCode,
  Inject,
  Param,
  Post,
  Res,
  UseGuards,
} from '@nestjs/common';
import type { Response } from 'express';
import {
  parseUserKey,
  userKey,
  type PresenceDeviceEvent,
  type PresenceUserState,
} from '@app/contracts';
import { EventProducer, outbound, RecordTooLargeException } from '@app/kafka';
import { ApiKeyGuard, ProblemException, ZodPipe } from '@app/http';
import { partitionOf } from './partition.util';
import { PresenceLookup } from './presence.lookup';
import {
  DevicePathSchema,
  PresenceReportSchema,
  UserPathSchema,
  type PresenceReport,
} from './presence-report.dto';
import { PresenceService } from './presence.service';
import { PresenceSweeper } from './presence.sweeper';
import { PRESENCE_TOPICS, type PresenceTopics } from './presence.topics';

@Controller('v1/apps/:appId/users/:userId')
@UseGuards(ApiKeyGuard)
export class PresenceController {
  constructor(
    private readonly producer: EventProducer,
    private readonly presence: PresenceService,
    private readonly sweeper: PresenceSweeper,
    private readonly lookup: PresenceLookup,
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
      // Only if the event topic's max.message.bytes were set below one event: retrying is futile.
      if (e instanceof RecordTooLargeException) {
        throw new ProblemException(413, 'EVENT_TOO_LARGE', `not recorded: ${e.message}`);
      }
      throw new ProblemException(503, 'KAFKA_UNAVAILABLE', `not recorded: ${(e as Error).message}`);
    }
    return { accepted: event };
  }

  /**
   * From memory when this instance owns the user's partition (timers applied as of now), else the
   * last snapshot on the compacted topic; `x-presence-source` says which.
   */
  @Get('presence')
  async read(
    @Param(new ZodPipe(UserPathSchema)) path: { appId: string; userId: string },
    @Res({ passthrough: true }) res: Response,
  ): Promise<PresenceUserState> {
    const key = userKey(path);
    const partition = partitionOf(key, this.sweeper.partitions());
    const view = this.presence.view(path.appId, path.userId, partition);
    if (view === 'not_owner') {
      const stored = await this.fromTopic(key, partition);
      res.setHeader('x-presence-source', 'changelog');
      return stored;
    }
    if (!this.sweeper.isRestored()) {
      throw new ProblemException(503, 'RESTORING', 'presence state is still being restored');
    }
    if (view === 'unknown') throw this.unknown(path.userId);
    res.setHeader('x-presence-source', 'memory');
    return view;
  }

  private async fromTopic(key: string, partition: number): Promise<PresenceUserState> {
    let stored: PresenceUserState | null | undefined;
    try {
      stored = await this.lookup.find(key, partition);
    } catch (e) {
      throw new ProblemException(503, 'LOOKUP_FAILED', (e as Error).message);
    }
    if (!stored) throw this.unknown(parseUserKey(key).userId);
    return stored;
  }

  private unknown(userId: string): ProblemException {
    return new ProblemException(404, 'PRESENCE_UNKNOWN', `no presence known for ${userId}`);
  }
}
