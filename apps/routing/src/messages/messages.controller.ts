import { Body, Controller, HttpCode, Param, Post, UseGuards } from '@nestjs/common';
import { ImMessageSentSchema, type ImMessageSent } from '@app/contracts';
import { ApiKeyGuard, ValidationProblem, ZodPipe } from '@app/http';
import { MessagesService } from './messages.service';

/** `POST /v1/apps/{appId}/messages`: an im.message.sent.v1 event for upstreams without Kafka. */
@Controller('v1/apps/:appId/messages')
@UseGuards(ApiKeyGuard)
export class MessagesController {
  constructor(private readonly messages: MessagesService) {}

  @Post()
  @HttpCode(202)
  async send(
    @Param('appId') appId: string,
    @Body(new ZodPipe(ImMessageSentSchema)) body: ImMessageSent,
  ): Promise<{ messageId: string; status: 'accepted' }> {
    if (body.appId !== appId)
      throw new ValidationProblem([
        { field: 'appId', message: `must be ${appId}, the app of the path` },
      ]);
    return this.messages.accept(body);
  }
}
