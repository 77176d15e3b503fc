import type { LiveActivity } from '@app/contracts';
import {
  groupMessage,
  message,
} from '../../../../libs/routing-rules/test-fixtures/routing.fixtures';
import {
  callContent,
  callExpiresAt,
  renderFcmCall,
  renderVoipPayload,
  VOIP_PAYLOAD_LIMIT,
} from './call.renderer';
import { renderLiveActivityPayload } from './live-activity.renderer';

const bytes = (v: unknown) => Buffer.byteLength(JSON.stringify(v), 'utf8');
const callMessage = message({
  messageId: 'call-1',
  elements: [{ type: 'custom', desc: 'Incoming call', ext: '{"room":42}' }],
  offlinePush: { apns: { pushType: 'voip' } },
});

describe('call rendering', () => {
  it('renders the exact VoIP payload: the call data, no aps (no alert, badge or sound)', () => {
    const fit = renderVoipPayload(callMessage, callContent(callMessage, undefined, 'apns'));
    expect(fit).toMatchObject({ ok: true, truncated: false });
    expect(fit.ok && fit.value).toEqual({
      type: 'call',
      messageId: 'call-1',
      conversation: 'c2c:alice',
      sender: { userId: 'alice', nickname: 'Alice' },
      title: 'Alice',
      body: 'Incoming call',
      ext: '{"room":42}',
    });
  });

  it('renders the exact FCM call: data only, high priority, the short ttl, string values', () => {
    const m = groupMessage({
      elements: [{ type: 'text', text: 'Video call' }],
      offlinePush: {
        ext: '{"room":7}',
        apns: { pushType: 'voip' },
        android: { priority: 'normal', collapseKey: 'call-g-7' },
      },
    });
    const fit = renderFcmCall(m, callContent(m, undefined, 'fcm'), 29.6);
    expect(fit.ok && fit.value).toEqual({
      android: { priority: 'high', ttl: '29s', collapse_key: 'call-g-7' },
      data: {
        type: 'call',
        messageId: 'm-1',
        conversation: 'group:g-7',
        senderId: 'alice',
        senderNickname: 'Alice',
        title: 'Weekend hikers',
        body: 'Ali: Video call',
        ext: '{"room":7}',
      },
    });
    const data = fit.ok ? (fit.value.data as Record<string, unknown>) : {};
    expect(Object.values(data).every((v) => typeof v === 'string')).toBe(true);
    expect(fit.ok && 'notification' in fit.value).toBe(false);
  });

  it('rings without text: default title, empty body, ext from the custom element', () => {
    const m = message({
      elements: [{ type: 'custom', desc: '', ext: '{"signal":1}' }],
      offlinePush: { apns: { pushType: 'voip' } },
    });
    expect(callContent(m, undefined, 'apns')).toEqual({
      title: 'Alice',
      body: '',
      ext: '{"signal":1}',
      threadId: 'c2c:alice',
      idOnly: false,
    });
  });

  it('id-only (the user or the app): no title, ext or sender name, with or without text', () => {
    for (const m of [
      callMessage,
      message({
        elements: [{ type: 'custom', desc: '', ext: '{"signal":1}' }],
        offlinePush: { apns: { pushType: 'voip' } },
      }),
    ]) {
      const userIdOnly = callContent(
        m,
        { hidePreview: false, sounds: {}, privacy: 'id_only' },
        'apns',
      );
      const appIdOnly = callContent(m, undefined, 'fcm', { appPrivacy: 'id_only' });
      expect(userIdOnly).toMatchObject({ title: null, ext: null, idOnly: true });
      const voip = renderVoipPayload(m, userIdOnly);
      const fcm = renderFcmCall(m, appIdOnly, 30);
      expect(voip.ok && voip.value.sender).toEqual({ userId: 'alice' });
      expect(fcm.ok && (fcm.value.data as Record<string, string>).senderId).toBe('alice');
      expect(JSON.stringify([voip, fcm])).not.toMatch(/Alice|signal|room|Incoming/);
    }
  });

  it('a call to a browser or desktop device: the same data with Web Push headers, no Android block', () => {
    const fit = renderFcmCall(callMessage, callContent(callMessage, undefined, 'fcm'), 29.6, true);
    expect(fit.ok && fit.value).toEqual({
      webpush: { headers: { TTL: '29', Urgency: 'high' } },
      data: expect.objectContaining({ type: 'call', messageId: 'call-1' }),
    });
  });

  it('keeps hidePreview: the neutral body, the title stays', () => {
    const content = callContent(callMessage, { hidePreview: true, sounds: {} }, 'apns');
    expect(content).toMatchObject({ title: 'Alice', body: 'You have a new message' });
  });

  it('cuts only the body to fit 5 KB; an ext too large alone is refused', () => {
    const long = message({
      elements: [{ type: 'text', text: 'x'.repeat(9000) }],
      offlinePush: { apns: { pushType: 'voip' } },
    });
    const fit = renderVoipPayload(long, callContent(long, undefined, 'apns'));
    expect(fit.ok && fit.truncated).toBe(true);
    expect(fit.bytes).toBeLessThanOrEqual(VOIP_PAYLOAD_LIMIT);
    expect(fit.bytes).toBeGreaterThan(VOIP_PAYLOAD_LIMIT - 10);
    const content = { title: null, body: 'hi', ext: 'e'.repeat(5200), threadId: 'c2c:alice' };
    expect(renderVoipPayload(long, content)).toEqual({ ok: false, bytes: expect.any(Number) });
  });

  it.each([
    [604800, '2026-11-26T05:00:30.000Z'],
    [10, '2026-11-26T05:00:10.000Z'],
  ])('a call with ttlSeconds %i expires at %s', (ttlSeconds, expected) => {
    expect(callExpiresAt(message({ ttlSeconds })).toISOString()).toBe(expected);
  });
});

describe('Live Activity rendering', () => {
  const la = (over: Partial<LiveActivity> = {}): LiveActivity => ({
    event: 'update',
    contentState: { courierName: 'Sam', etaMinutes: 5 },
    ...over,
  });

  it('renders aps with timestamp (sentAt in unix seconds), event and content-state', () => {
    const fit = renderLiveActivityPayload(message(), la());
    expect(fit.ok && fit.value).toEqual({
      aps: {
        timestamp: 1795669200, // 2026-11-26T05:00:00Z
        event: 'update',
        'content-state': { courierName: 'Sam', etaMinutes: 5 },
      },
    });
  });

  it('renders an end with its dates, relevance score and alert', () => {
    const fit = renderLiveActivityPayload(
      message(),
      la({
        event: 'end',
        staleDate: 1795759200,
        dismissalDate: 1795762800,
        relevanceScore: 75,
        alert: { title: 'Delivered', body: 'Sam left it at the door' },
      }),
    );
    expect(fit.ok && fit.value).toEqual({
      aps: {
        timestamp: 1795669200, // 2026-11-26T05:00:00Z
        event: 'end',
        'content-state': { courierName: 'Sam', etaMinutes: 5 },
        'stale-date': 1795759200,
        'dismissal-date': 1795762800,
        'relevance-score': 75,
        alert: { title: 'Delivered', body: 'Sam left it at the door' },
      },
    });
  });

  it('cuts the alert body to stay within 4 KB next to a 2 KB content-state', () => {
    const fit = renderLiveActivityPayload(
      message(),
      la({
        contentState: { s: 'é'.repeat(1015) },
        alert: { title: 'T'.repeat(512), body: '😀'.repeat(1000) },
      }),
    );
    expect(fit.ok && fit.truncated).toBe(true);
    expect(fit.bytes).toBeLessThanOrEqual(4096);
    expect(fit.ok && bytes(fit.value)).toBe(fit.bytes);
  });
});
