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
