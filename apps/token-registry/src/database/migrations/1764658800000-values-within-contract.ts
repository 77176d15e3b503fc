import type { MigrationInterface, QueryRunner } from 'typeorm';

/** C0, DEL and C1 control characters, as a PostgreSQL regular expression. */
const CONTROL = `'[\\x01-\\x1f\\x7f-\\x9f]'`;

/**
 * The contract of `token.user-devices.v1` became stricter (control characters, conversation ids
 * over 128 characters and non-ASCII tokens are refused). The registry validates each snapshot
 * before it goes to the outbox, so a row stored under the old rules would make every later change
 * of its user fail. This removes such values — none is meaningful: a conversation key no message
 * can have, a sound file name with a control character, a token no provider issues — and changes
 * nothing else. The schema is unchanged.
 *
 * The rules are applied exactly, in JavaScript; SQL only preselects the few candidate rows
 * (anything with a control character, a key over 67 characters, a token outside printable ASCII).
 * Users changed here keep their last published snapshot until their next change (or
 * `npm run republish:registry`).
 */
export class ValuesWithinContract1764658800000 implements MigrationInterface {
  name = 'ValuesWithinContract1764658800000';

  async up(q: QueryRunner): Promise<void> {
    const controls = new RegExp('[\\p{Cc}\\p{Cs}]', 'u');
    const keyRule = /^(c2c|group):[^:\s\p{Cc}\p{Cs}]{1,128}$/u;
    const tokenRule = /^[!#-[\]-~]{1,1024}$/;

    const users = (await q.query(
      `SELECT app_id, user_id, conversations, sound_c2c, sound_group FROM registry_users
       WHERE sound_c2c ~ ${CONTROL} OR sound_group ~ ${CONTROL}
          OR EXISTS (SELECT 1 FROM jsonb_object_keys(conversations) k
                     WHERE length(k) > 67 OR k ~ ${CONTROL})`,
    )) as Array<{
      app_id: string;
      user_id: string;
      conversations: Record<string, string>;
      sound_c2c: string | null;
      sound_group: string | null;
    }>;
    for (const u of users) {
      const conversations = Object.fromEntries(
        Object.entries(u.conversations).filter(([k]) => keyRule.test(k)),
      );
      const sound = (s: string | null) => (s !== null && controls.test(s) ? null : s);
      await q.query(
        `UPDATE registry_users SET conversations = $3::jsonb, sound_c2c = $4, sound_group = $5
         WHERE app_id = $1 AND user_id = $2`,
        [
          u.app_id,
          u.user_id,
          JSON.stringify(conversations),
          sound(u.sound_c2c),
          sound(u.sound_group),
        ],
      );
    }

    const devices = (await q.query(
      `SELECT app_id, user_id, device_id, token, topic FROM registry_devices
       WHERE token !~ '^[\\x21-\\x7e]+$' OR token ~ '["\\\\]' OR topic ~ ${CONTROL}`,
    )) as Array<{
      app_id: string;
      user_id: string;
      device_id: string;
      token: string;
      topic: string | null;
    }>;
    for (const d of devices) {
      if (tokenRule.test(d.token) && !(d.topic !== null && controls.test(d.topic))) continue;
      await q.query(
        `DELETE FROM registry_devices WHERE app_id = $1 AND user_id = $2 AND device_id = $3`,
        [d.app_id, d.user_id, d.device_id],
      );
    }
  }

  async down(): Promise<void> {
    // Removed values are not restored: they were refused by the contract.
  }
}
