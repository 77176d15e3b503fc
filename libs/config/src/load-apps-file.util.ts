import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { parse } from 'yaml';
import { AppsFileSchema, type AppsFile } from './apps-file.schema';
import { ConfigException } from './config.exception';

/**
 * Reads the tenants file. Relative secret paths resolve against the file's own folder, so a
 * mounted ConfigMap and its Secrets can sit side by side.
 */
export function loadAppsFile(path: string): AppsFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new ConfigException([`PUSH_APPS_FILE: cannot read ${path}: ${(e as Error).message}`]);
  }
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (e) {
    throw new ConfigException([
      `PUSH_APPS_FILE: ${path} is not valid YAML: ${(e as Error).message}`,
    ]);
  }
  const result = AppsFileSchema.safeParse(doc);
  if (!result.success) {
    throw new ConfigException(
      result.error.issues.map(
        (i) => `PUSH_APPS_FILE ${i.path.join('.') || '(root)'}: ${i.message}`,
      ),
    );
  }
  const base = dirname(resolve(path));
  const abs = (p: string | undefined) => (p === undefined || isAbsolute(p) ? p : resolve(base, p));
  for (const app of result.data.apps) {
    if (app.apns) {
      app.apns.keyFile = abs(app.apns.keyFile);
      app.apns.certFile = abs(app.apns.certFile);
      if (app.apns.endpoint) app.apns.endpoint.caFile = abs(app.apns.endpoint.caFile);
    }
    if (app.fcm) {
      app.fcm.serviceAccountFile = abs(app.fcm.serviceAccountFile)!;
      if (app.fcm.endpoint) app.fcm.endpoint.caFile = abs(app.fcm.endpoint.caFile);
    }
    for (const hook of app.webhooks ?? []) hook.secretFile = abs(hook.secretFile)!;
  }
  return result.data;
}
