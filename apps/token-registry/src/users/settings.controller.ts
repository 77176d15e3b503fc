import {
  Body,
  Controller,
  Get,
  HttpCode,
  Param,
  Put,
  UseGuards,
  UseInterceptors,
} from '@nestjs/common';
import { ApiKeyGuard, ZodPipe } from '@app/http';
import { DatabaseUnavailableInterceptor } from '../database/database-unavailable.interceptor';
import { UserPathSchema, type UserPath } from '../devices/device.dto';
import { UpdateSettingsBodySchema, type UpdateSettingsInput } from './settings.dto';
import { SettingsService, type SettingsView } from './settings.service';

@Controller('v1/apps/:appId/users/:userId/settings')
@UseGuards(ApiKeyGuard)
@UseInterceptors(DatabaseUnavailableInterceptor)
export class SettingsController {
  constructor(private readonly settings: SettingsService) {}

  @Put()
  @HttpCode(200)
  update(
    @Param(new ZodPipe(UserPathSchema)) path: UserPath,
    @Body(new ZodPipe(UpdateSettingsBodySchema)) body: UpdateSettingsInput,
  ): Promise<SettingsView> {
    return this.settings.update(path, body);
  }

  @Get()
  get(@Param(new ZodPipe(UserPathSchema)) path: UserPath): Promise<SettingsView> {
    return this.settings.get(path);
  }
}
