import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Param,
  Put,
  UseGuards,
  UseInterceptors,
} from '@nestjs/common';
import { ApiKeyGuard, ZodPipe } from '@app/http';
import { DatabaseUnavailableInterceptor } from '../database/database-unavailable.interceptor';
import {
  DevicePathSchema,
  RegisterDeviceBodySchema,
  UserPathSchema,
  type DevicePath,
  type RegisterDeviceInput,
  type UserPath,
} from './device.dto';
import { DevicesService, type DeviceView, type RegisterResult } from './devices.service';

@Controller('v1/apps/:appId/users/:userId/devices')
@UseGuards(ApiKeyGuard)
@UseInterceptors(DatabaseUnavailableInterceptor)
export class DevicesController {
  constructor(private readonly devices: DevicesService) {}

  @Put(':deviceId')
  @HttpCode(200)
  register(
    @Param(new ZodPipe(DevicePathSchema)) path: DevicePath,
    @Body(new ZodPipe(RegisterDeviceBodySchema)) body: RegisterDeviceInput,
  ): Promise<RegisterResult> {
    return this.devices.register(path, body);
  }

  @Delete(':deviceId')
  @HttpCode(204)
  async unregister(@Param(new ZodPipe(DevicePathSchema)) path: DevicePath): Promise<void> {
    await this.devices.unregister(path);
  }

  @Get()
  list(
    @Param(new ZodPipe(UserPathSchema)) path: UserPath,
  ): Promise<{ version: number; devices: DeviceView[] }> {
    return this.devices.list(path);
  }
}
