import { Injectable, Logger } from '@nestjs/common';
import { ServiceConfig } from '@app/config';
import type { PushSettings } from '@app/contracts';
import { ValidationProblem } from '@app/http';
import { DataSource } from 'typeorm';
import { inTransaction } from '../database/transaction.util';
import { DevicesRepository } from '../devices/devices.repository';
import type { UserPath } from '../devices/device.dto';
import { OutboxWriter } from '../outbox/outbox.writer';
import type { RegistryEnv } from '../registry-env.schema';
import { DEFAULT_SETTINGS, settingsOf, type UserState } from '../snapshot/snapshot.builder';
import type { UpdateSettingsInput } from './settings.dto';
import { UsersRepository, type SettingsColumns } from './users.repository';

export interface SettingsView {
  version: number;
  settings: PushSettings;
}

/** Applies a partial update to the stored columns: fields left out keep their value. */
export function mergeSettings(current: UserState, patch: UpdateSettingsInput): SettingsColumns {
  const conversations = { ...current.conversations };
  for (const [k, v] of Object.entries(patch.conversations ?? {})) {
    // `receive` is the default: storing it would only make every snapshot bigger.
    if (v === null || v === 'receive') delete conversations[k];
    else conversations[k] = v;
  }
  const dnd = patch.dnd === undefined ? settingsOf(current).dnd : patch.dnd;
  return {
    pushEnabled: patch.pushEnabled ?? current.pushEnabled,
    hidePreview: patch.hidePreview ?? current.hidePreview,
    snoozeUntil:
      patch.snoozeUntil === undefined
        ? current.snoozeUntil
        : patch.snoozeUntil === null
          ? null
          : new Date(patch.snoozeUntil),
    dndStartSecond: dnd?.startSecondOfDay ?? null,
    dndDurationSeconds: dnd?.durationSeconds ?? null,
    dndTimeZone: dnd?.timeZone ?? null,
    soundC2c: patch.sounds?.c2c === undefined ? current.soundC2c : patch.sounds.c2c,
    soundGroup: patch.sounds?.group === undefined ? current.soundGroup : patch.sounds.group,
    conversations,
    privacy: patch.privacy === undefined ? current.privacy : patch.privacy,
  };
}

@Injectable()
export class SettingsService {
  private readonly logger = new Logger(SettingsService.name);
  private readonly maxConversationOptions: number;

  constructor(
    private readonly dataSource: DataSource,
    private readonly users: UsersRepository,
    private readonly devices: DevicesRepository,
    private readonly outbox: OutboxWriter,
    config: ServiceConfig<RegistryEnv>,
  ) {
    this.maxConversationOptions = config.env.REGISTRY_MAX_CONVERSATION_OPTIONS;
  }

  async get(key: UserPath): Promise<SettingsView> {
    const user = await this.users.find(key.appId, key.userId);
    return user
      ? { version: user.version, settings: settingsOf(user) }
      : { version: 0, settings: DEFAULT_SETTINGS };
  }

  async update(key: UserPath, patch: UpdateSettingsInput): Promise<SettingsView> {
    const result = await inTransaction(this.dataSource, async (tx) => {
      const current = await this.users.lockAndBump(tx, key.appId, key.userId);
      const merged = mergeSettings(current, patch);
      // Checked on the merged result: a request that only removes options always passes, so a
      // user over a lowered cap can come back under it.
      const stored = Object.keys(merged.conversations).length;
      if (
        stored > this.maxConversationOptions &&
        stored > Object.keys(current.conversations).length
      ) {
        throw new ValidationProblem([
          {
            field: 'conversations',
            message: `at most ${this.maxConversationOptions} conversations with an option per user (this change would store ${stored})`,
          },
        ]);
      }
      const user = await this.users.writeSettings(tx, key.appId, key.userId, merged);
      const snapshot = await this.outbox.append(
        tx,
        user,
        await this.devices.ofUser(tx, key.appId, key.userId),
      );
      return { version: snapshot.version, settings: snapshot.settings };
    });
    this.outbox.committed();
    this.logger.log({ msg: 'settings updated', ...key, version: result.version });
    return result;
  }
}
