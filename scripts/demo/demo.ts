/**
 * The demo, against the running platform (scripts/start-all.sh): bob has an iPhone and an Android
 * phone, carol an iPhone; bob's iPhone is in the background with 3 unread, carol has the app open.
 * alice writes to bob, then to the hiking group mentioning carol. The fakes show what Apple and
 * Google would have received: bob's phones ring (badge 4 on the iPhone), carol's stays quiet
 * because the IM connection delivers to her. Then delivery-reports explains it: the outcomes of the
 * group message, carol's diagnosis (she was online), and one signed webhook delivery the demo's
 * receiver got. Last, alice recalls her message to bob: his iPhone's notification is replaced
 * (the same apns-collapse-id) and its badge drops by one.
 *
 *   npx tsx scripts/demo/demo.ts
 */
import { randomBytes, randomUUID } from 'node:crypto';

const KEY = 'demo-api-key';
const REGISTRY = 'http://127.0.0.1:3001';
const PRESENCE = 'http://127.0.0.1:3002';
const ROUTING = 'http://127.0.0.1:3003';
const FAKES = 'http://127.0.0.1:8440/received';
const REPORTS = 'http://127.0.0.1:3006';
const RECEIVER = 'http://127.0.0.1:8450/received';

const run = randomUUID().slice(0, 6);
const bob = `bob-${run}`;
const carol = `carol-${run}`;
const bobIphone = randomBytes(32).toString('hex');
const bobPixel = `fcm-bob-${run}-${randomBytes(24).toString('base64url')}`;
const carolIphone = randomBytes(32).toString('hex');

async function call(method: string, url: string, body?: unknown): Promise<unknown> {
  const res = await fetch(url, {
    method,
    headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${url} → ${res.status} ${text}`);
  return text ? (JSON.parse(text) as unknown) : undefined;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const step = (s: string) => console.log(`\n▶ ${s}`);

interface Received {
  apns: Array<{
    token: string;
    payload: Record<string, unknown>;
    status: number;
    collapseId?: string;
  }>;
  fcm: Array<{ token?: string; message: Record<string, unknown>; httpStatus: number }>;
}

async function received(): Promise<Received> {
  return (await (await fetch(FAKES)).json()) as Received;
}

async function waitForDeliveries(count: (r: Received) => number, want: number): Promise<Received> {
  for (let i = 0; i < 60; i++) {
    const r = await received();
    if (count(r) >= want) return r;
    await sleep(500);
  }
  return received();
}

async function main(): Promise<void> {
  step(`register devices (users ${bob}, ${carol})`);
  await call('PUT', `${REGISTRY}/v1/apps/demo/users/${bob}/devices/iphone-1`, {
    platform: 'ios',
    token: bobIphone,
    topic: 'com.example.chat',
    environment: 'production',
    locale: 'en',
  });
  await call('PUT', `${REGISTRY}/v1/apps/demo/users/${bob}/devices/pixel-1`, {
    platform: 'android',
    token: bobPixel,
  });
  await call('PUT', `${REGISTRY}/v1/apps/demo/users/${carol}/devices/iphone-1`, {
    platform: 'ios',
    token: carolIphone,
    topic: 'com.example.chat',
    environment: 'production',
  });
  console.log(JSON.stringify(await call('GET', `${REGISTRY}/v1/apps/demo/users/${bob}/devices`)));

  step("report presence: bob's iPhone in the background with 3 unread; carol's app open");
  await call('POST', `${PRESENCE}/v1/apps/demo/users/${bob}/devices/iphone-1/presence`, {
    type: 'background',
    unreadCount: 3,
    platform: 'ios',
  });
  await call('POST', `${PRESENCE}/v1/apps/demo/users/${carol}/devices/iphone-1/presence`, {
    type: 'foreground',
    platform: 'ios',
  });
  await sleep(3000); // the snapshots travel through Kafka to routing
  console.log(JSON.stringify(await call('GET', `${PRESENCE}/v1/apps/demo/users/${bob}/presence`)));

  step('alice writes to bob (c2c, text + image)');
  const sentAt = new Date().toISOString();
  await call('POST', `${ROUTING}/v1/apps/demo/messages`, {
    appId: 'demo',
    messageId: `m-${run}-1`,
    sentAt,
    conversation: { type: 'c2c', id: 'alice' },
    sender: { userId: 'alice', nickname: 'Alice' },
    recipients: [bob],
    elements: [{ type: 'text', text: 'Look at this' }, { type: 'image' }],
  });

  step('alice writes to the hiking group, mentioning carol');
  await call('POST', `${ROUTING}/v1/apps/demo/messages`, {
    appId: 'demo',
    messageId: `m-${run}-2`,
    sentAt,
    conversation: { type: 'group', id: `g-${run}`, name: 'Weekend hikers' },
    sender: { userId: 'alice', nickname: 'Alice', nameCard: 'Ali' },
    recipients: [bob, carol],
    elements: [
      { type: 'text', text: 'Trail at 9?' },
      { type: 'custom', desc: '', ext: '{"trail":"K2"}', sound: 'dingdong.aiff' },
    ],
    mentions: { all: false, userIds: [carol] },
  });

  step('what Apple and Google received');
  const mine = (r: Received) => ({
    apns: r.apns.filter((x) => [bobIphone, carolIphone].includes(x.token)),
    fcm: r.fcm.filter((x) => x.token === bobPixel),
  });
  const r = mine(await waitForDeliveries((x) => mine(x).apns.length + mine(x).fcm.length, 4));
  for (const a of r.apns) {
    console.log(
      `APNs → ${a.token === bobIphone ? "bob's iPhone" : "carol's iPhone"} (${a.status}): ${JSON.stringify(a.payload)}`,
    );
  }
  for (const f of r.fcm) {
    console.log(`FCM → bob's Pixel (${f.httpStatus}): ${JSON.stringify(f.message)}`);
  }
  const carolRang = r.apns.some((a) => a.token === carolIphone);
  console.log(
    `\ncarol's iPhone ${carolRang ? 'rang (unexpected: her app is open)' : 'stayed quiet: her app is open, the IM connection delivers'}`,
  );
  const reported = await reports(`m-${run}-2`);
  const recalled = await recall();
  const ok =
    r.apns.filter((a) => a.token === bobIphone).length === 2 &&
    r.fcm.length === 2 &&
    !carolRang &&
    reported &&
    recalled;
  console.log(
    ok ? '\n✔ demo complete' : '\n✘ the demo did not see every expected push; see .local/run/logs',
  );
  process.exit(ok ? 0 : 1);
}

/** alice recalls her message to bob: the fake APNs shows the replacement under the same id. */
async function recall(): Promise<boolean> {
  const messageId = `m-${run}-1`;
  step(`alice recalls ${messageId}: POST /v1/apps/demo/messages/${messageId}/recall`);
  await call('POST', `${ROUTING}/v1/apps/demo/messages/${messageId}/recall`, {
    conversation: { type: 'c2c', id: 'alice' },
    senderId: 'alice',
    recipients: [bob],
  });
  const iphone = (x: Received) => x.apns.filter((a) => a.token === bobIphone);
  const all = iphone(await waitForDeliveries((x) => iphone(x).length, 3));
  const [first, , replacement] = all;
  if (!replacement) {
    console.log('no replacement arrived');
    return false;
  }
  console.log(
    `APNs → bob's iPhone, apns-collapse-id ${replacement.collapseId}: ${JSON.stringify(replacement.payload)}`,
  );
  const same = replacement.collapseId === messageId && first.collapseId === messageId;
  console.log(same ? 'the same collapse id as the message: it replaces the notification' : '✘');
  return same;
}

interface OutcomeItem {
  userId: string;
  deviceId: string | null;
  provider: string | null;
  status: string;
  code: string | null;
}
interface Delivery {
  deliveryId: string;
  attempt: string;
  signature: string;
  verified: boolean;
  body: { outcomes: Array<{ messageId: string; userId: string; event: string }> };
}

/** Polls until `get` answers something `done` accepts (or ~30 s passed); the last answer. */
async function poll<T>(get: () => Promise<T>, done: (v: T) => boolean): Promise<T> {
  let v = await get();
  for (let i = 0; i < 60 && !done(v); i++) {
    await sleep(500);
    v = await get();
  }
  return v;
}

/** delivery-reports: the message's outcomes, carol's diagnosis, one signed webhook delivery. */
async function reports(messageId: string): Promise<boolean> {
  step(`delivery-reports: GET /v1/apps/demo/messages/${messageId}/outcomes`);
  const page = await poll(
    async () =>
      (await call('GET', `${REPORTS}/v1/apps/demo/messages/${messageId}/outcomes`)) as {
        items: OutcomeItem[];
      },
    (p) => p.items.length >= 3,
  );
  for (const o of page.items) {
    console.log(
      `${o.userId} ${o.deviceId} (${o.provider}): ${o.status}${o.code ? ` (${o.code})` : ''}`,
    );
  }
  step(`delivery-reports: GET /v1/apps/demo/users/${carol}/diagnosis`);
  const d = (await call('GET', `${REPORTS}/v1/apps/demo/users/${carol}/diagnosis`)) as {
    summary: string;
    devices: Array<{ tokenPreview: string; nextMessage: { rule: string | null } }>;
  };
  const { devices, settings, lastOutcomes } = d as typeof d & Record<string, unknown>;
  console.log(JSON.stringify({ devices, settings, lastOutcomes }, null, 2));
  console.log(`\n${d.summary}`);
  const online = d.devices.length === 1 && d.devices[0].nextMessage.rule === 'online';
  step('the webhook receiver (http://127.0.0.1:8450/hooks/push): one signed delivery');
  const mine = (ds: Delivery[]) =>
    ds.find((x) => x.body.outcomes.some((o) => o.messageId.startsWith(`m-${run}-`)));
  const delivery = mine(
    await poll(
      async () => (await (await fetch(RECEIVER)).json()) as Delivery[],
      (ds) => !!mine(ds),
    ),
  );
  if (delivery) {
    console.log(
      `delivery ${delivery.deliveryId} (attempt ${delivery.attempt}), x-push-signature ${delivery.signature}: ${delivery.verified ? '✔ signature verified' : '✘ signature NOT verified'}`,
    );
    for (const o of delivery.body.outcomes.filter((x) => x.messageId.startsWith(`m-${run}-`))) {
      console.log(`  ${o.event}: ${o.messageId} → ${o.userId}`);
    }
  } else {
    console.log('no webhook delivery of this run arrived');
  }
  return page.items.length >= 3 && online && !!delivery?.verified;
}

void main().catch((e: Error) => {
  console.error(`demo failed: ${e.message}`);
  process.exit(1);
});
