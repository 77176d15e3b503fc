import { canonicalTimeZone, UpdateSettingsBodySchema } from './settings.dto';

const fields = (body: unknown) => {
  const r = UpdateSettingsBodySchema.safeParse(body);
  return r.success ? [] : r.error.issues.map((i) => i.path.join('.') || '(body)');
};
const dnd = (timeZone: string) => ({ dnd: { startSecondOfDay: 0, durationSeconds: 60, timeZone } });

describe('UpdateSettingsBodySchema', () => {
  it.each([
    ['europe/berlin', 'Europe/Berlin'],
    ['EUROPE/BERLIN', 'Europe/Berlin'],
    ['Etc/UTC', 'UTC'],
    ['US/Pacific', 'America/Los_Angeles'],
    ['Europe/Berlin', 'Europe/Berlin'],
  ])('stores the time zone %s as %s', (given, stored) => {
    expect(UpdateSettingsBodySchema.parse(dnd(given)).dnd?.timeZone).toBe(stored);
    expect(canonicalTimeZone(given)).toBe(stored);
  });

  it.each(['Mars/Olympus', 'Europe/Berlin\u0000', 'Z', ''])(
    'refuses the time zone %j naming dnd.timeZone',
    (tz) => {
      expect(fields(dnd(tz))).toContain('dnd.timeZone');
    },
  );

  it.each([
    [{ sounds: { c2c: 'ding\u0000.aiff' } }, 'sounds.c2c'],
    [{ sounds: { group: 'a\u001b' } }, 'sounds.group'],
    [{ conversations: { 'c2c:a\u0000': 'receive_not_notify' } }, 'conversations.c2c:a\u0000'],
    [
      { conversations: { [`group:${'g'.repeat(129)}`]: 'receive' } },
      `conversations.group:${'g'.repeat(129)}`,
    ],
    [{ privacy: 'ids' }, 'privacy'],
    [{ privacy: 'ID_ONLY' }, 'privacy'],
    [{ privacy: true }, 'privacy'],
  ])('refuses %j naming %s', (body, field) => {
    expect(fields(body)).toContain(field);
  });

  it.each(['full', 'id_only', null])('takes privacy %j', (privacy) => {
    expect(UpdateSettingsBodySchema.parse({ privacy }).privacy).toBe(privacy);
  });

  it('takes a conversation key whose id has the longest id length', () => {
    expect(
      fields({ conversations: { [`group:${'g'.repeat(128)}`]: 'receive_except_at' } }),
    ).toEqual([]);
  });
});
