import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { MessagesController } from './messages/messages.controller';
import { MessagesService } from './messages/messages.service';
import { RoutingStateHealthIndicator } from './routing-state.health';
import { RoutingStages } from './routing.stages';

/** Fan-out, decide and the messages API. */
@Module({
  imports: [TerminusModule],
  controllers: [MessagesController],
  providers: [RoutingStages, RoutingStateHealthIndicator, MessagesService],
  exports: [RoutingStateHealthIndicator, RoutingStages],
})
export class RoutingModule {}
