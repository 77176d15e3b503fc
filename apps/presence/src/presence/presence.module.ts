import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { PresenceStore } from '../state/presence.store';
import { PresenceConsumer } from './presence.consumer';
import { PresenceController } from './presence.controller';
import { PresenceLookup } from './presence.lookup';
import { PresenceService } from './presence.service';
import { PresenceSweeper } from './presence.sweeper';
import { CONTRACT_TOPICS, PRESENCE_TOPICS } from './presence.topics';

@Module({
  imports: [TerminusModule],
  controllers: [PresenceController, PresenceConsumer],
  providers: [
    { provide: PresenceStore, useFactory: () => new PresenceStore() },
    { provide: PRESENCE_TOPICS, useValue: CONTRACT_TOPICS },
    PresenceService,
    PresenceSweeper,
    PresenceLookup,
  ],
  exports: [PresenceService],
})
export class PresenceModule {}
