import { Module } from '@nestjs/common';
import { DevicesController } from './devices/devices.controller';
import { DevicesRepository } from './devices/devices.repository';
import { DevicesService } from './devices/devices.service';
import { InvalidationService } from './invalidation/invalidation.service';
import { OutboxRelayService } from './outbox/outbox-relay.service';
import { OutboxWriter } from './outbox/outbox.writer';
import { AttributesController, TagsController } from './users/audience.controller';
import { AudienceService } from './users/audience.service';
import { SettingsController } from './users/settings.controller';
import { SettingsService } from './users/settings.service';
import { UsersRepository } from './users/users.repository';

/** Devices, settings, tags and attributes, the outbox and its relay, and the invalidations (applied). */
@Module({
  controllers: [DevicesController, SettingsController, TagsController, AttributesController],
  providers: [
    UsersRepository,
    DevicesRepository,
    OutboxWriter,
    DevicesService,
    SettingsService,
    AudienceService,
    InvalidationService,
    OutboxRelayService,
  ],
  exports: [OutboxRelayService, InvalidationService],
})
export class RegistryModule {}
