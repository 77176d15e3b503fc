import { Body, Controller, HttpCode, Param, Post, UseGuards } from '@nestjs/common';
import { ApiKeyGuard } from '@app/http';
import { parseMessageBody } from './message-body.util';
import { parseReadBody, parseRecallBody } from './lifecycle-body.util';
import { LifecycleService } from './lifecycle.service';
import { MessagesService } from './messages.service';

/** `POST /v1/apps/{appId}/messages`: an im.message.sent.v1 event for upstreams without Kafka. */
@Controller('v1/apps/:appId/messages')
@UseGuards(ApiKeyGuard)
export class MessagesController {
  constructor(
    private readonly messages: MessagesService,
    private readonly lifecycle: LifecycleService,
  ) {}

  /** The guard has checked `appId` (the id rules, then the API key's app). */
  @Post()
  @HttpCode(202)
  async send(
    @Param('appId') appId: string,
    @Body() body: unknown,
  ): Promise<{ messageId: string; status: 'accepted' }> {
    return this.messages.accept(parseMessageBody(appId, body));
  }

  /** An im.message.recalled.v1 event: the devices that showed the message get it replaced. */
  @Post(':messageId/recall')
  @HttpCode(202)
  async recall(
    @Param('appId') appId: string,
    @Param('messageId') messageId: string,
    @Body() body: unknown,
  ): Promise<{ messageId: string; status: 'accepted' }> {
    return this.lifecycle.recall(parseRecallBody(appId, messageId, body, new Date()));
  }
}

/** `POST /v1/apps/{appId}/users/{userId}/conversations/read`: an im.conversation.read.v1 event. */
@Controller('v1/apps/:appId/users/:userId/conversations')
@UseGuards(ApiKeyGuard)
export class ConversationsController {
  constructor(private readonly lifecycle: LifecycleService) {}

  @Post('read')
  @HttpCode(202)
  async read(
    @Param('appId') appId: string,
    @Param('userId') userId: string,
    @Body() body: unknown,
  ): Promise<{ status: 'accepted' }> {
    return this.lifecycle.read(parseReadBody(appId, userId, body, new Date()));
  }
}
