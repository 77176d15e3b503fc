import { Body, Controller, HttpCode, Param, Post, UseGuards } from '@nestjs/common';
import { ApiKeyGuard } from '@app/http';
import { parseMessageBody } from './message-body.util';
import { MessagesService } from './messages.service';

/** `POST /v1/apps/{appId}/messages`: an im.message.sent.v1 event for upstreams without Kafka. */
@Controller('v1/apps/:appId/messages')
@UseGuards(ApiKeyGuard)
export class MessagesController {
  constructor(private readonly messages: MessagesService) {}

  /** The guard has checked `appId` (the id rules, then the API key's app). */
  @Post()
  @HttpCode(202)
  async send(
    @Param('appId') appId: string,
    @Body() body: unknown,
  ): Promise<{ messageId: string; status: 'accepted' }> {
    return this.messages.accept(parseMessageBody(appId, body));
  }
}
