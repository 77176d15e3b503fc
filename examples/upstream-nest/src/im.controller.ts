import { Body, Controller, Headers, HttpCode, Inject, Param, Post, Put } from '@nestjs/common';
import { traceIds, type ImGroupMembers, type ImMessageSent } from './im-events';
import { ImEventsPublisher } from './im-events.publisher';

/**
 * Stands in for the chat service's own code paths: "a message was stored", "a group changed".
 * No validation here beyond what the chat service already did; the platform dead-letters a value
 * that breaks its contract (push.dead-letter.v1).
 */
@Controller('im')
export class ImController {
  // Injected by token, so that the example also runs without decorator metadata (tsx).
  constructor(@Inject(ImEventsPublisher) private readonly publisher: ImEventsPublisher) {}

  @Post('messages')
  @HttpCode(202)
  async messageSent(
    @Body() message: ImMessageSent,
    @Headers('x-correlation-id') correlationId?: string,
    @Headers('traceparent') traceparent?: string,
  ) {
    const ids = traceIds(correlationId, traceparent);
    const meta = await this.publisher.publishMessage(message, ids);
    return { messageId: message.messageId, correlationId: ids.correlationId, ...where(meta) };
  }

  @Put('apps/:appId/groups/:groupId/members')
  async groupMembers(
    @Param('appId') appId: string,
    @Param('groupId') groupId: string,
    @Body() body: Pick<ImGroupMembers, 'members' | 'version'>,
    @Headers('x-correlation-id') correlationId?: string,
  ) {
    const membership: ImGroupMembers = {
      appId,
      groupId,
      members: body.members,
      version: body.version,
      updatedAt: new Date().toISOString(),
    };
    const meta = await this.publisher.publishGroupMembers(membership, traceIds(correlationId));
    return { groupId, ...where(meta) };
  }
}

const where = (meta: { partition: number; baseOffset?: string; offset?: string }) => ({
  partition: meta.partition,
  offset: meta.baseOffset ?? meta.offset,
});
