import { RequestMethod, type INestApplication } from '@nestjs/common';
import {
  GUARDS_METADATA,
  HTTP_CODE_METADATA,
  METHOD_METADATA,
  PATH_METADATA,
  ROUTE_ARGS_METADATA,
} from '@nestjs/common/constants';
import { RouteParamtypes } from '@nestjs/common/enums/route-paramtypes.enum';
import { ModulesContainer } from '@nestjs/core';
import type { Express, Request, Response } from 'express';
import { z, type ZodType } from 'zod';
import { ApiKeyGuard } from './api-key.guard';
import { ROUTE_DOCS, type JsonSchema, type RouteDoc } from './openapi.routes';
import { ZodPipe } from './zod-body.pipe';

/*
 * The OpenAPI 3.1 document of a service's HTTP API, served at `/docs/openapi.json` (and a plain
 * HTML index at `/docs`). Routes come from what the service's controllers declare (Nest's route
 * metadata: path, method, status code, guards), their path parameters and bodies from the zod
 * schemas of their `ZodPipe`s, converted with `z.toJSONSchema` (the same schemas that validate
 * the requests); summaries, success bodies and route-specific problems from `ROUTE_DOCS`.
 */

/** A route as the service's controllers declare it. */
export interface DeclaredRoute {
  /** Lower case: `get`, `put`, ... */
  method: string;
  /** OpenAPI style: `/v1/apps/{appId}/messages`. */
  path: string;
  controller: string;
  handler: string;
  /** The success status (`@HttpCode`, else Nest's default: 201 for POST, 200 otherwise). */
  status: number;
  /** Behind `ApiKeyGuard` (an API key as a bearer token). */
  guarded: boolean;
  /** The zod schema of each path parameter, when a `ZodPipe` validates it. */
  params: Record<string, ZodType | undefined>;
  /** The body's zod schema, when a `ZodPipe` validates it. */
  body?: ZodType;
}

const METHODS: Partial<Record<RequestMethod, string>> = {
  [RequestMethod.GET]: 'get',
  [RequestMethod.POST]: 'post',
  [RequestMethod.PUT]: 'put',
  [RequestMethod.DELETE]: 'delete',
  [RequestMethod.PATCH]: 'patch',
  [RequestMethod.OPTIONS]: 'options',
  [RequestMethod.HEAD]: 'head',
};

/** A controller's or handler's path (Nest allows a list: the first is documented). */
const firstPath = (p: unknown): string => {
  const first: unknown = Array.isArray(p) ? p[0] : p;
  return typeof first === 'string' ? first : '';
};

/** `v1/apps/:appId` + `/` → `/v1/apps/{appId}`. */
export function openApiPath(...parts: string[]): string {
  const joined = parts
    .flatMap((p) => p.split('/'))
    .filter((s) => s !== '')
    .map((s) => (s.startsWith(':') ? `{${s.slice(1)}}` : s))
    .join('/');
  return `/${joined}`;
}

// ZodPipe keeps its schema private; reading it here is the one place that needs it.
const schemaOf = (pipe: unknown): ZodType | undefined =>
  pipe instanceof ZodPipe ? (pipe as unknown as { schema: ZodType }).schema : undefined;

/** Every route of every controller the application's modules declare. */
export function declaredRoutes(app: INestApplication): DeclaredRoute[] {
  const modules = app.get(ModulesContainer, { strict: false });
  const controllers = new Set<new (...args: never[]) => unknown>();
  for (const m of modules.values()) {
    for (const w of m.controllers.values()) {
      if (w.metatype) controllers.add(w.metatype as new (...args: never[]) => unknown);
    }
  }
  const routes: DeclaredRoute[] = [];
  for (const cls of controllers) {
    const base = firstPath(Reflect.getMetadata(PATH_METADATA, cls));
    const classGuards = (Reflect.getMetadata(GUARDS_METADATA, cls) as unknown[]) ?? [];
    const proto = cls.prototype as Record<string, unknown>;
    for (const name of Object.getOwnPropertyNames(proto)) {
      const fn = proto[name];
      if (name === 'constructor' || typeof fn !== 'function') continue;
      const verb = Reflect.getMetadata(METHOD_METADATA, fn) as RequestMethod | undefined;
      const own = Reflect.getMetadata(PATH_METADATA, fn) as unknown;
      const method = verb === undefined ? undefined : METHODS[verb];
      if (own === undefined || !method) continue;
      const path = openApiPath(base, firstPath(own));
      const guards = [
        ...classGuards,
        ...((Reflect.getMetadata(GUARDS_METADATA, fn) as unknown[]) ?? []),
      ];
      const args =
        (Reflect.getMetadata(ROUTE_ARGS_METADATA, cls, name) as
          Record<string, { data?: unknown; pipes?: unknown[] }> | undefined) ?? {};
      const params: Record<string, ZodType | undefined> = {};
      for (const m of path.matchAll(/\{([^}]+)\}/g)) params[m[1]] = undefined;
      let body: ZodType | undefined;
      for (const [key, arg] of Object.entries(args)) {
        const type = Number(key.split(':')[0]);
        const schema = (arg.pipes ?? []).map(schemaOf).find((s) => s !== undefined);
        if (!schema) continue;
        if (type === Number(RouteParamtypes.BODY)) body = schema;
        if (type !== Number(RouteParamtypes.PARAM)) continue;
        if (typeof arg.data === 'string') params[arg.data] = schema;
        else if (schema instanceof z.ZodObject) {
          for (const [p, s] of Object.entries<ZodType>(schema.shape)) {
            if (p in params) params[p] = s;
          }
        }
      }
      routes.push({
        method,
        path,
        controller: cls.name,
        handler: name,
        status:
          (Reflect.getMetadata(HTTP_CODE_METADATA, fn) as number | undefined) ??
          (method === 'post' ? 201 : 200),
        guarded: guards.includes(ApiKeyGuard),
        params,
        body,
      });
    }
  }
  return routes.sort((a, b) => a.path.localeCompare(b.path) || a.method.localeCompare(b.method));
}

/** A zod schema as a JSON Schema (2020-12, OpenAPI 3.1's dialect), without its `$schema`. */
export function jsonSchemaOf(schema: ZodType, io: 'input' | 'output'): JsonSchema {
  const s = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as JsonSchema;
  delete s.$schema;
  return s;
}

const schemaFor = (
  s: ZodType | JsonSchema | (() => JsonSchema),
  io: 'input' | 'output',
): JsonSchema => (s instanceof z.ZodType ? jsonSchemaOf(s, io) : typeof s === 'function' ? s() : s);

const PROBLEM_SCHEMA: JsonSchema = {
  type: 'object',
  description: 'RFC 9457 problem details; `code` is stable and meant for programs.',
  properties: {
    type: { type: 'string', examples: ['about:blank'] },
    title: { type: 'string' },
    status: { type: 'integer' },
    detail: { type: 'string' },
    code: { type: 'string', examples: ['VALIDATION_FAILED', 'UNAUTHENTICATED'] },
    errors: {
      type: 'array',
      description: 'Validation problems: one per failing field.',
      items: {
        type: 'object',
        properties: { field: { type: 'string' }, message: { type: 'string' } },
        required: ['field', 'message'],
      },
    },
    errorId: { type: 'string', description: 'On a 500: the id the log line carries.' },
  },
  required: ['type', 'title', 'status', 'code'],
};

const problem = (description: string) => ({
  description,
  content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } },
});

export interface OpenApiInfo {
  title: string;
  version: string;
  description?: string;
}

export type OpenApiDocument = Record<string, unknown> & {
  openapi: string;
  paths: Record<string, Record<string, Record<string, unknown>>>;
};

/** The OpenAPI 3.1 document of the routes, with `ROUTE_DOCS` (or `docs`) for what metadata lacks. */
export function buildOpenApiDocument(
  routes: DeclaredRoute[],
  info: OpenApiInfo,
  docs: Record<string, RouteDoc> = ROUTE_DOCS,
): OpenApiDocument {
  const paths: OpenApiDocument['paths'] = {};
  for (const r of routes) {
    const doc: RouteDoc = docs[`${r.method.toUpperCase()} ${r.path}`] ?? {
      summary: `${r.controller}.${r.handler}`,
    };
    (paths[r.path] ??= {})[r.method] = operationFor(r, doc);
  }
  return {
    openapi: '3.1.0',
    info: {
      title: info.title,
      version: info.version,
      ...(info.description ? { description: info.description } : {}),
    },
    paths,
    components: {
      securitySchemes: {
        apiKey: {
          type: 'http',
          scheme: 'bearer',
          description: "The app's API key (`Authorization: Bearer <api key>`).",
        },
      },
      schemas: { Problem: PROBLEM_SCHEMA },
    },
  };
}

/** One route's operation object. */
function operationFor(r: DeclaredRoute, doc: RouteDoc): Record<string, unknown> {
  const body = r.body ?? doc.body;
  const responses = responsesFor(r, doc, body);
  return {
    operationId: `${r.controller}_${r.handler}`,
    summary: doc.summary,
    ...(doc.description ? { description: doc.description } : {}),
    tags: [doc.tag ?? r.controller.replace(/Controller$/, '')],
    ...(r.guarded ? { security: [{ apiKey: [] }] } : {}),
    parameters: Object.entries(r.params).map(([name, schema]) => ({
      name,
      in: 'path',
      required: true,
      schema: schema ? jsonSchemaOf(schema, 'input') : { type: 'string' },
    })),
    ...(body
      ? {
          requestBody: {
            required: true,
            ...(doc.bodyDescription ? { description: doc.bodyDescription } : {}),
            content: { 'application/json': { schema: schemaFor(body, 'input') } },
          },
        }
      : {}),
    responses,
  };
}

/** The success response, the problems the route can answer, then the route's other responses. */
function responsesFor(
  r: DeclaredRoute,
  doc: RouteDoc,
  body: RouteDoc['body'],
): Record<string, unknown> {
  const responses: Record<string, unknown> = {};
  responses[String(r.status)] = {
    description: doc.responseDescription ?? 'Success.',
    ...(doc.responseHeaders ? { headers: doc.responseHeaders } : {}),
    ...(doc.response
      ? {
          content: {
            [doc.responseType ?? 'application/json']: {
              schema: schemaFor(doc.response, 'output'),
            },
          },
        }
      : {}),
  };
  for (const [status, description] of Object.entries(problemsFor(r, doc, body))) {
    responses[status] = problem(description);
  }
  for (const [status, other] of Object.entries(doc.responses ?? {})) {
    responses[status] = {
      description: other.description,
      ...(other.schema ? { content: { 'application/json': { schema: other.schema } } } : {}),
    };
  }
  return responses;
}

function problemsFor(
  r: DeclaredRoute,
  doc: RouteDoc,
  body: RouteDoc['body'],
): Record<number, string> {
  const problems: Record<number, string> = {};
  if (r.guarded || body || Object.values(r.params).some(Boolean)) {
    problems[400] = 'A path parameter or the body breaks its rules (each field is named).';
  }
  if (r.guarded) {
    problems[401] = 'No API key, or an unknown one (`Authorization: Bearer <api key>`).';
    problems[403] = "The API key is another app's.";
  }
  if (body) {
    problems[413] = 'The body is larger than the service accepts.';
    problems[415] = 'Not JSON, not UTF-8, or an unknown Content-Encoding.';
  }
  Object.assign(problems, doc.problems ?? {});
  problems[500] = 'An unexpected error (the answer carries an `errorId` the log has too).';
  return problems;
}

const escapeHtml = (s: string) =>
  s.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!,
  );

/** A page listing the operations, linking the JSON document (no scripts, nothing external). */
export function openApiHtml(doc: OpenApiDocument): string {
  const info = doc.info as OpenApiInfo;
  const rows = Object.entries(doc.paths).flatMap(([path, ops]) =>
    Object.entries(ops).map(
      ([method, op]) =>
        `<tr><td><code>${method.toUpperCase()}</code></td><td><code>${escapeHtml(path)}</code></td>` +
        `<td>${escapeHtml(typeof op.summary === 'string' ? op.summary : '')}</td></tr>`,
    ),
  );
  return [
    '<!doctype html>',
    '<html lang="en"><head><meta charset="utf-8">',
    `<title>${escapeHtml(info.title)} API</title>`,
    '<style>body{font-family:sans-serif;margin:2em}td{padding:.2em 1em;vertical-align:top}</style>',
    '</head><body>',
    `<h1>${escapeHtml(info.title)} API</h1>`,
    info.description ? `<p>${escapeHtml(info.description)}</p>` : '',
    '<p>The OpenAPI 3.1 document: <a href="/docs/openapi.json">/docs/openapi.json</a>',
    '(load it in any OpenAPI viewer or client generator).</p>',
    '<table><thead><tr><th>method</th><th>path</th><th>summary</th></tr></thead><tbody>',
    ...rows,
    '</tbody></table></body></html>',
  ].join('\n');
}

/**
 * Serves the service's document at `GET /docs/openapi.json` and the index page at `GET /docs`
 * (no API key: it describes the API, it holds nothing of any tenant). The document is built on
 * the first request, from the controllers the application declares.
 */
export function serveApiDocs(app: INestApplication, info: OpenApiInfo): void {
  let doc: OpenApiDocument | undefined;
  const get = () => (doc ??= buildOpenApiDocument(declaredRoutes(app), info));
  const server = app.getHttpAdapter().getInstance() as Express;
  server.get('/docs/openapi.json', (_req: Request, res: Response) => {
    res.setHeader('cache-control', 'no-cache');
    res.json(get());
  });
  server.get('/docs', (_req: Request, res: Response) => {
    res.type('html').send(openApiHtml(get()));
  });
}
