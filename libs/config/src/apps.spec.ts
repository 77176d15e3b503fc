import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AppsRegistry, hashApiKey } from './apps.registry';
import { ConfigException } from './config.exception';
import { loadAppsFile } from './load-apps-file.util';

const write = (text: string): string => {
  const dir = mkdtempSync(join(tmpdir(), 'apps-'));
  const path = join(dir, 'apps.yaml');
  writeFileSync(path, text);
  return path;
};

describe('apps file', () => {
  const key = hashApiKey('secret-1');

  it('loads tenants, applies policy defaults and resolves secret paths beside the file', () => {
    const path = write(`
apps:
  - id: demo
    apiKeys: ["${key}"]
    apns: { teamId: TEAM123456, keyId: ABC123DEFG, keyFile: keys/demo.p8, topics: [com.example.chat] }
    fcm: { projectId: p, serviceAccountFile: sa.json, endpoint: { host: localhost, port: 8444, caFile: ca.pem } }
`);
    const file = loadAppsFile(path);
    const app = file.apps[0];
    expect(app.policy).toEqual({ suppressWhenOnlineElsewhere: false, offlineAfterDays: 7 });
    expect(app.apns!.keyFile).toBe(join(path, '..', 'keys/demo.p8'));
    expect(app.apns!.environments).toEqual(['production', 'sandbox']);
    expect(app.fcm!.endpoint!.caFile).toBe(join(path, '..', 'ca.pem'));
  });

  it('rejects a bad file naming the field', () => {
    const bad = (text: string) => {
      try {
        loadAppsFile(write(text));
      } catch (e) {
        return (e as ConfigException).problems.join('\n');
      }
      throw new Error('accepted');
    };
    expect(bad('apps: []')).toMatch(/PUSH_APPS_FILE apps/);
    expect(bad(`apps:\n  - id: a\n    apiKeys: ["plain-text-key"]`)).toMatch(/apps\.0\.apiKeys\.0/);
    expect(
      bad(`apps:\n  - id: a\n    apiKeys: ["${key}"]\n  - id: a\n    apiKeys: ["${key}"]`),
    ).toMatch(/duplicate app id a/);
    expect(bad(`apps:\n  - id: a\n    apiKeys: ["${key}"]\n    apns: { topics: [t] }`)).toMatch(
      /token auth/,
    );
    expect(bad('apps: [')).toMatch(/not valid YAML/);
    expect(() => loadAppsFile('/nonexistent/apps.yaml')).toThrow(/cannot read/);
  });

  it('maps an API key to its one app, and nothing else', () => {
    const registry = new AppsRegistry({
      apps: [
        {
          id: 'a',
          apiKeys: [key],
          policy: { suppressWhenOnlineElsewhere: false, offlineAfterDays: 7 },
        },
        {
          id: 'b',
          apiKeys: [hashApiKey('secret-2')],
          policy: { suppressWhenOnlineElsewhere: true, offlineAfterDays: 3 },
        },
      ],
    });
    expect(registry.appForApiKey('secret-1')).toBe('a');
    expect(registry.appForApiKey('secret-2')).toBe('b');
    expect(registry.appForApiKey('secret-3')).toBeUndefined();
    expect(registry.appForApiKey('')).toBeUndefined();
    expect(registry.get('b')!.policy.offlineAfterDays).toBe(3);
  });
});

describe('apps file: webhooks', () => {
  const key = hashApiKey('secret-1');
  const withHooks = (hooks: string) =>
    `apps:\n  - id: a\n    apiKeys: ["${key}"]\n    webhooks:\n${hooks}`;
  const problems = (text: string): string => {
    try {
      loadAppsFile(write(text));
    } catch (e) {
      return (e as ConfigException).problems.join('\n');
    }
    throw new Error('accepted');
  };

  it('applies the defaults and resolves secretFile beside the file', () => {
    const path = write(
      withHooks('      - { url: "https://hooks.example.com/push", secretFile: s/hook.secret }'),
    );
    const [hook] = loadAppsFile(path).apps[0].webhooks!;
    expect(hook).toEqual({
      url: 'https://hooks.example.com/push',
      secretFile: join(path, '..', 's/hook.secret'),
      events: ['sent', 'suppressed', 'invalid_token', 'rejected', 'expired', 'failed'],
      batchMax: 100,
      timeoutMs: 10000,
    });
  });

  it('accepts plain http only on the loopback host, and no credentials in the URL', () => {
    for (const url of ['http://127.0.0.1:8080/h', 'http://localhost/h', 'http://[::1]:9/h']) {
      expect(() =>
        loadAppsFile(write(withHooks(`      - { url: "${url}", secretFile: s }`))),
      ).not.toThrow();
    }
    expect(
      problems(withHooks('      - { url: "http://hooks.example.com/h", secretFile: s }')),
    ).toMatch(/apps\.0\.webhooks\.0\.url: must be https/);
    expect(
      problems(withHooks('      - { url: "https://u:p@example.com/h", secretFile: s }')),
    ).toMatch(/credentials/);
    expect(problems(withHooks('      - { url: "not a url", secretFile: s }'))).toMatch(/not a URL/);
  });

  it('caps what a webhook can ask: events, batchMax, timeoutMs, count, duplicates', () => {
    const one = (extra: string) =>
      problems(withHooks(`      - { url: "https://e.example/h", secretFile: s, ${extra} }`));
    expect(one('events: [delivered]')).toMatch(/webhooks\.0\.events\.0/);
    expect(one('events: []')).toMatch(/webhooks\.0\.events/);
    expect(one('events: [sent, sent]')).toMatch(/each event at most once/);
    expect(one('batchMax: 501')).toMatch(/webhooks\.0\.batchMax/);
    expect(one('batchMax: 0')).toMatch(/webhooks\.0\.batchMax/);
    expect(one('timeoutMs: 30001')).toMatch(/webhooks\.0\.timeoutMs/);
    expect(one('timeoutMs: 99')).toMatch(/webhooks\.0\.timeoutMs/);
    expect(problems(withHooks('      - { url: "https://e.example/h" }'))).toMatch(/secretFile/);
    const eleven = Array.from(
      { length: 11 },
      (_, i) => `      - { url: "https://e.example/${i}", secretFile: s }`,
    ).join('\n');
    expect(problems(withHooks(eleven))).toMatch(/apps\.0\.webhooks/);
    const twice = '      - { url: "https://e.example/h", secretFile: s }\n'.repeat(2);
    expect(problems(withHooks(twice))).toMatch(/webhooks\.1\.url: duplicate webhook url/);
  });
});

describe('apps file: privacy, texts, fcm.dataOnly, web', () => {
  const key = hashApiKey('secret-1');
  const app = (extra: string) => `apps:\n  - id: a\n    apiKeys: ["${key}"]\n${extra}`;
  const problems = (text: string) => {
    try {
      loadAppsFile(write(text));
    } catch (e) {
      return (e as ConfigException).problems.join('\n');
    }
    return '';
  };

  it('reads them, and leaves them out when not given (privacy full, built-in texts)', () => {
    const [given] = loadAppsFile(
      write(
        app(
          [
            '    privacy: id_only',
            '    texts:',
            '      newMessage: { default: "New message", zh-Hant: "你有一則新訊息", pt_BR: "Nova mensagem" }',
            '      recalled: { en: "Recalled" }',
            '    fcm: { projectId: p, serviceAccountFile: sa.json, dataOnly: true }',
            '    web: { icon: "https://chat.example.com/icon.png", link: "https://chat.example.com/" }',
          ].join('\n'),
        ),
      ),
    ).apps;
    expect(given).toMatchObject({
      privacy: 'id_only',
      texts: { newMessage: { 'zh-Hant': '你有一則新訊息' }, recalled: { en: 'Recalled' } },
      fcm: { dataOnly: true },
      web: { icon: 'https://chat.example.com/icon.png', link: 'https://chat.example.com/' },
    });
    const [plain] = loadAppsFile(write(app(''))).apps;
    expect([plain.privacy, plain.texts, plain.web]).toEqual([undefined, undefined, undefined]);
  });

  it.each([
    ['privacy: ids', /apps\.0\.privacy/],
    ['texts: { newMessage: { "en US": "x" } }', /apps\.0\.texts\.newMessage/],
    ['texts: { newMessage: { en: "" } }', /apps\.0\.texts\.newMessage\.en/],
    [`texts: { recalled: { en: "${'x'.repeat(257)}" } }`, /apps\.0\.texts\.recalled\.en/],
    [
      `texts: { newMessage: { ${Array.from({ length: 51 }, (_, i) => `l${String.fromCharCode(97 + (i % 26))}${String.fromCharCode(97 + Math.floor(i / 26))}: x`).join(', ')} } }`,
      /at most 50 locales/,
    ],
    ['web: { link: "http://chat.example.com/" }', /apps\.0\.web\.link/],
    ['web: { icon: "javascript:alert(1)" }', /apps\.0\.web\.icon/],
    [
      'fcm: { projectId: p, serviceAccountFile: sa.json, dataOnly: "yes" }',
      /apps\.0\.fcm\.dataOnly/,
    ],
  ])('refuses %s naming the field', (extra, expected) => {
    expect(problems(app(`    ${extra}`))).toMatch(expected);
  });
});
