import type { INestApplication } from '@nestjs/common';
import { startService, testTenant, uniqueId } from '@app/testing';
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import request from 'supertest';
import { startPresence } from '../presence/presence.helpers';
import { SERVICES } from '../services';
import { migratedDataSource, startRegistry } from '../token-registry/registry.fixture';

/**
 * Each HTTP service serves its own OpenAPI document: valid OpenAPI 3.1, and listing exactly the
 * routes Express ends up with once Nest has registered the controllers' routes (the router's
 * own table, not the metadata the document is built from), `/docs` itself aside.
 */
interface Layer {
  route?: { path: string; methods: Record<string, boolean> };
}

/** `METHOD /path/{param}` of every route in the Express router. */
function routerRoutes(app: INestApplication): string[] {
  const express = app.getHttpAdapter().getInstance() as unknown as { router: { stack: Layer[] } };
  return (
    express.router.stack
      .flatMap((l) =>
        l.route
          ? Object.keys(l.route.methods)
              .filter((m) => m !== '_all')
              .map((m) => `${m.toUpperCase()} ${l.route!.path.replace(/:([^/]+)/g, '{$1}')}`)
          : [],
      )
      // Not controller routes: the documents themselves, and Nest's catch-all not-found handler.
      .filter((r) => !/ \/docs(\/|$)/.test(r) && !r.endsWith(' /{*path}'))
      .sort()
  );
}

/**
 * `@seriousme/openapi-schema-validator` (the OpenAPI 3.1 JSON Schemas) on a document. It is an ES
 * module, which Jest cannot require without --experimental-vm-modules: it runs in a child node.
 */
function validateOpenApi(doc: unknown): unknown {
  const code = `
    import { Validator } from '@seriousme/openapi-schema-validator';
    let input = '';
    for await (const chunk of process.stdin) input += chunk;
    const v = new Validator();
    const r = await v.validate(JSON.parse(input));
    process.stdout.write(JSON.stringify({ version: v.version, ...r }));`;
  const run = spawnSync(process.execPath, ['--input-type=module', '-e', code], {
    input: JSON.stringify(doc),
    cwd: resolve(__dirname, '../../..'),
    encoding: 'utf8',
  });
  if (run.status !== 0) throw new Error(`validator failed: ${run.stderr}`);
  return JSON.parse(run.stdout);
}

type Doc = {
  openapi: string;
  paths: Record<string, Record<string, Record<string, unknown>>>;
};

const documentRoutes = (doc: Doc): string[] =>
  Object.entries(doc.paths)
    .flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`))
    .sort();

async function checkDocument(app: INestApplication, expected: string[]): Promise<Doc> {
  const res = await request(app.getHttpServer()).get('/docs/openapi.json');
  expect(res.status).toBe(200);
  expect(res.headers['content-type']).toContain('application/json');
  const doc = res.body as Doc;
  expect(validateOpenApi(res.body)).toEqual({ version: '3.1', valid: true });
  // Every route the router has is documented, and nothing else.
  const routes = routerRoutes(app);
  expect(documentRoutes(doc)).toEqual(routes);
  expect(routes).toEqual(expect.arrayContaining(expected));
  const html = await request(app.getHttpServer()).get('/docs');
  expect(html.status).toBe(200);
  expect(html.headers['content-type']).toContain('text/html');
  for (const path of Object.keys(doc.paths)) expect(html.text).toContain(path);
  return doc;
}

const bodySchema = (doc: Doc, path: string, method: string) =>
  (
    doc.paths[path][method].requestBody as {
      content: Record<string, { schema: { properties: Record<string, unknown> } }>;
    }
  ).content['application/json'].schema;

describe('OpenAPI documents', () => {
  const apps: INestApplication[] = [];
  afterAll(async () => {
    for (const app of apps) await app.close();
  });

  it('token-registry: devices and settings', async () => {
    const ds = await migratedDataSource();
    await ds.destroy();
    const app = await startRegistry();
    apps.push(app);
    const doc = await checkDocument(app, [
      'PUT /v1/apps/{appId}/users/{userId}/devices/{deviceId}',
      'DELETE /v1/apps/{appId}/users/{userId}/devices/{deviceId}',
      'GET /v1/apps/{appId}/users/{userId}/devices',
      'PUT /v1/apps/{appId}/users/{userId}/settings',
      'GET /v1/apps/{appId}/users/{userId}/settings',
      'GET /health/live',
      'GET /health/ready',
      'GET /metrics',
    ]);
    const put = doc.paths['/v1/apps/{appId}/users/{userId}/devices/{deviceId}'].put;
    // From the ZodPipes: the path parameters' rules and the body's fields.
    expect(put.parameters).toEqual(
      ['appId', 'userId', 'deviceId'].map((name) =>
        expect.objectContaining({
          name,
          in: 'path',
          required: true,
          schema: expect.objectContaining({ type: 'string', maxLength: 128 }),
        }),
      ),
    );
    expect(
      Object.keys(
        bodySchema(doc, '/v1/apps/{appId}/users/{userId}/devices/{deviceId}', 'put').properties,
      ),
    ).toEqual(expect.arrayContaining(['platform', 'provider', 'token']));
    expect(put.security).toEqual([{ apiKey: [] }]);
    expect(Object.keys(put.responses as object)).toEqual(
      expect.arrayContaining(['200', '400', '401', '403', '503']),
    );
    expect(doc.paths['/health/live'].get.security).toBeUndefined();
  });

  it('presence: reports and reads', async () => {
    const tenant = testTenant('presence-it');
    const app = await startPresence({
      PUSH_APPS_FILE: tenant.file,
      PRESENCE_CONSUMER_GROUP: uniqueId('presence-openapi'),
    });
    apps.push(app);
    const doc = await checkDocument(app, [
      'POST /v1/apps/{appId}/users/{userId}/devices/{deviceId}/presence',
      'GET /v1/apps/{appId}/users/{userId}/presence',
    ]);
    const report = bodySchema(
      doc,
      '/v1/apps/{appId}/users/{userId}/devices/{deviceId}/presence',
      'post',
    );
    expect(Object.keys(report.properties)).toEqual(expect.arrayContaining(['type']));
    const read = doc.paths['/v1/apps/{appId}/users/{userId}/presence'].get;
    expect(Object.keys(read.responses as object)).toEqual(expect.arrayContaining(['200', '404']));
  });

  it('routing: the messages API', async () => {
    const app = await startService({
      ...SERVICES.routing,
      env: { ...process.env, LOG_LEVEL: 'warn', ROUTING_FANOUT: 'false', ROUTING_DECIDE: 'false' },
    });
    apps.push(app);
    const doc = await checkDocument(app, [
      'POST /v1/apps/{appId}/messages',
      'POST /v1/apps/{appId}/messages/{messageId}/recall',
      'POST /v1/apps/{appId}/users/{userId}/conversations/read',
    ]);
    const recall = bodySchema(doc, '/v1/apps/{appId}/messages/{messageId}/recall', 'post') as {
      properties: Record<string, unknown>;
      required: string[];
    };
    expect(Object.keys(recall.properties).sort()).toEqual(
      ['conversation', 'recalledAt', 'recipients', 'senderId'].sort(),
    );
    expect(recall.required).toEqual(['conversation']);
    const send = doc.paths['/v1/apps/{appId}/messages'].post;
    // The body the handler validates itself: the event's schema, appId optional.
    const body = bodySchema(doc, '/v1/apps/{appId}/messages', 'post') as {
      properties: Record<string, unknown>;
      required: string[];
    };
    expect(Object.keys(body.properties)).toEqual(
      expect.arrayContaining(['messageId', 'conversation', 'sender', 'recipients', 'elements']),
    );
    expect(body.required).not.toContain('appId');
    expect(Object.keys(send.responses as object)).toEqual(
      expect.arrayContaining(['202', '400', '401', '403', '413', '415', '503']),
    );
  });
});
