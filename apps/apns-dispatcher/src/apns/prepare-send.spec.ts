import apn from '@parse/node-apn';
import { apnsRequest } from '@app/testing';
import type { ApnsRequest } from '@app/contracts';
import { apnsIdFor } from './apns-id.util';
import { prepareSend } from './apns.sender';

/** What node-apn's `Provider.send` builds of the Notification the dispatcher used to make. */
function viaNotification(req: ApnsRequest): { headers: object; body: string } {
  const note = new apn.Notification();
  note.rawPayload = req.payload;
  note.topic = req.topic;
  note.pushType = req.pushType;
  note.priority = req.priority;
  note.id = apnsIdFor(req.jobId);
  note.expiry = Math.floor(Date.parse(req.expiresAt) / 1000);
  if (req.collapseId) note.collapseId = req.collapseId;
  // Untyped in node-apn's declarations: what `Provider.send` calls.
  const built = note as unknown as { headers(): object; compile(): string };
  return { headers: built.headers(), body: built.compile() };
}

describe('prepareSend', () => {
  const token = 'ab'.repeat(32);
  const cases: Array<[string, Partial<ApnsRequest>]> = [
    ['an alert', {}],
    ['a collapse id', { collapseId: 'conv-7' }],
    ['a background push at priority 5', { pushType: 'background', priority: 5 }],
    ['a VoIP push', { pushType: 'voip', topic: 'com.example.chat.voip', payload: { call: 'c1' } }],
    [
      'a Live Activity (no push-type added to the payload)',
      {
        pushType: 'liveactivity',
        topic: 'com.example.chat.push-type.liveactivity',
        payload: { aps: { event: 'update', 'content-state': { n: 1 }, timestamp: 1 } },
      },
    ],
    ['an expiry before 1970 (no apns-expiration)', { expiresAt: '1969-12-31T23:59:00.000Z' }],
  ];

  it.each(cases)(
    'builds the headers (in order) and body node-apn builds of a Notification: %s',
    (_, over) => {
      const req = apnsRequest('demo', token, over);
      const built = prepareSend(req);
      const expected = viaNotification(req);
      expect(built.apnsId).toBe(apnsIdFor(req.jobId));
      expect(built.http.body).toBe(expected.body);
      expect(Object.entries(built.http.headers)).toEqual(Object.entries(expected.headers));
    },
  );
});
