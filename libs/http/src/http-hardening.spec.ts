import { Body, Controller, Get, Module, Param, Post, Req, UseGuards } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { Test } from '@nestjs/testing';
import { AppsRegistry, hashApiKey } from '@app/config';
import { IdSchema } from '@app/contracts';
import type { Request } from 'express';
import type { AddressInfo } from 'node:net';
import { connect } from 'node:net';
import { gzipSync } from 'node:zlib';
import { z } from 'zod';
import { ApiKeyGuard } from './api-key.guard';
import { jsonDepthExceeds } from './body-guard';
import { configureHttpApp } from './bootstrap';
import { acceptCorrelationId, acceptTraceparent } from './correlation.middleware';
import { HttpEnvSchema, httpSettings } from './http-server';
import { ProblemException } from './problem.exception';
import { ZodPipe } from './zod-body.pipe';

const Thing = z.object({ name: z.string().min(1) }).loose();
const UserPath = z.object({ appId: IdSchema, userId: IdSchema });

@Controller('v1/apps/:appId')
@UseGuards(ApiKeyGuard)
class EdgeController {
  @Post('things')
  create(@Body(new ZodPipe(Thing)) body: z.infer<typeof Thing>, @Req() req: Request) {
    return { name: body.name, seenCorrelationId: req.headers['x-correlation-id'] };
  }

  @Get('users/:userId')
  user(@Param(new ZodPipe(UserPath)) path: z.infer<typeof UserPath>) {
    return path;
  }

  @Get('busy')
  busy(): never {
    throw new ProblemException(503, 'BUSY', 'try later', undefined, { 'Retry-After': '2' });
  }
}

@Module({
  controllers: [EdgeController],
  providers: [
    {
      provide: AppsRegistry,
      useValue: new AppsRegistry({
        apps: [
          {
            id: 'a',
            apiKeys: [hashApiKey('key-a')],
            policy: { suppressWhenOnlineElsewhere: false, offlineAfterDays: 7 },
          },
        ],
      }),
    },
  ],
})
class EdgeModule {}

/** The raw bytes a server answers to `request`, once it closes the connection. */
function rawExchange(port: number, request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(request));
    let text = '';
    socket.on('data', (d) => (text += d.toString()));
    socket.on('close', () => resolve(text));
    socket.on('error', reject);
  });
}

describe('HTTP edge hardening (configureHttpApp)', () => {
  let app: NestExpressApplication;
  let base: string;
  let port: number;

  beforeAll(async () => {
    const ref = await Test.createTestingModule({ imports: [EdgeModule] }).compile();
    app = ref.createNestApplication<NestExpressApplication>({ bodyParser: false, logger: false });
    configureHttpApp(app, {
      ...httpSettings({}),
      HTTP_REQUEST_TIMEOUT_MS: 1000,
      HTTP_HEADERS_TIMEOUT_MS: 1000,
    });
    await app.listen(0, '127.0.0.1');
    port = (app.getHttpServer().address() as AddressInfo).port;
    base = `http://127.0.0.1:${port}`;
  });

  afterAll(() => app.close());

  const post = (body: string | Uint8Array, headers: Record<string, string> = {}) =>
    fetch(`${base}/v1/apps/a/things`, {
      method: 'POST',
      headers: { authorization: 'Bearer key-a', 'content-type': 'application/json', ...headers },
      body,
    });
  const problem = async (res: Response) => {
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    return (await res.json()) as { status: number; code: string; errors?: { field: string }[] };
  };

  it('takes a plain and a gzip-encoded JSON body', async () => {
    expect((await post('{"name":"x"}')).status).toBe(201);
    const gz = await post(gzipSync('{"name":"y"}'), { 'content-encoding': 'gzip' });
    expect(gz.status).toBe(201);
    expect(await gz.json()).toMatchObject({ name: 'y' });
  });

  it('answers an unknown Content-Encoding with 415 problem+json listing the supported ones', async () => {
    const res = await post('{"name":"x"}', { 'content-encoding': 'snappy' });
    expect(res.status).toBe(415);
    expect(res.headers.get('accept-encoding')).toBe('gzip, deflate, br');
    expect(await problem(res)).toMatchObject({ code: 'UNSUPPORTED_CONTENT_ENCODING' });
  });

  it('answers a body that does not decode with its Content-Encoding with 400, not 500', async () => {
    for (const encoding of ['gzip', 'deflate', 'br']) {
      const res = await post('{"name":"not compressed"}', { 'content-encoding': encoding });
      expect(res.status).toBe(400);
      expect((await problem(res)).code).toMatch(/^(INVALID_CONTENT_ENCODING|UNREADABLE_BODY)$/);
    }
  });

  it('answers a 10,000-deep array with 400 JSON_TOO_DEEP, at the top and inside a field', async () => {
    const deep = '['.repeat(10000) + ']'.repeat(10000);
    const top = await post(deep);
    expect(top.status).toBe(400);
    expect((await problem(top)).code).toBe('JSON_TOO_DEEP');
    const inner = await post(`{"name":"x","extra":${deep}}`);
    expect(inner.status).toBe(400);
    expect((await problem(inner)).code).toBe('JSON_TOO_DEEP');
  });

  it('counts only real nesting: brackets inside strings do not count', async () => {
    const res = await post(JSON.stringify({ name: '['.repeat(5000), q: 'a\\"[[[' }));
    expect(res.status).toBe(201);
  });

  it('answers malformed JSON and a non-UTF-8 charset as problems', async () => {
    const bad = await post('{"name":');
    expect(bad.status).toBe(400);
    expect((await problem(bad)).code).toBe('INVALID_JSON');
    const utf16 = await post(Buffer.from('{"name":"x"}', 'utf16le'), {
      'content-type': 'application/json; charset=utf-16le',
    });
    expect(utf16.status).toBe(415);
    expect((await problem(utf16)).code).toBe('UNSUPPORTED_CHARSET');
  });

  it('answers a 20,000-character path id with 400 naming the parameter', async () => {
    const long = 'x'.repeat(20000);
    const app400 = await fetch(`${base}/v1/apps/${long}/users/u`, {
      headers: { authorization: 'Bearer key-a' },
    });
    expect(app400.status).toBe(400);
    expect((await problem(app400)).errors).toEqual([expect.objectContaining({ field: 'appId' })]);
    const user400 = await fetch(`${base}/v1/apps/a/users/${long}`, {
      headers: { authorization: 'Bearer key-a' },
    });
    expect(user400.status).toBe(400);
    expect((await problem(user400)).errors).toEqual([expect.objectContaining({ field: 'userId' })]);
  });

  it('answers a request line beyond the header limit with a 431 problem, not a bare status', async () => {
    const res = await fetch(`${base}/v1/apps/a/users/${'x'.repeat(40000)}`);
    expect(res.status).toBe(431);
    expect(await problem(res)).toMatchObject({ status: 431, code: 'HEADERS_TOO_LARGE' });
  });

  it('answers a request that is not sent in time with a 408 problem', async () => {
    const started = Date.now();
    const text = await rawExchange(
      port,
      'POST /v1/apps/a/things HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"na',
    );
    expect(text).toMatch(/^HTTP\/1\.1 408 /);
    expect(text).toContain('application/problem+json');
    expect(text).toContain('"REQUEST_TIMEOUT"');
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('answers malformed HTTP with a 400 problem', async () => {
    const text = await rawExchange(port, 'GET / HTTP/1.1\r\nHost x\r\n\r\n');
    expect(text).toMatch(/^HTTP\/1\.1 400 /);
    expect(text).toContain('"MALFORMED_REQUEST"');
  });

  it('sends the headers a problem carries (Retry-After)', async () => {
    const res = await fetch(`${base}/v1/apps/a/busy`, {
      headers: { authorization: 'Bearer key-a' },
    });
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('2');
  });

  it('replaces an invalid correlation id before anything reads it, and keeps a valid one', async () => {
    for (const bad of ['has space', 'x'.repeat(129), 'semi;colon', 'per%cent', 'é']) {
      const res = await post('{"name":"x"}', { 'x-correlation-id': bad });
      const echoed = res.headers.get('x-correlation-id');
      expect(echoed).toMatch(/^[0-9a-f-]{36}$/);
      expect(((await res.json()) as { seenCorrelationId: string }).seenCorrelationId).toBe(echoed);
    }
    const ok = await post('{"name":"x"}', { 'x-correlation-id': 'req-42.a_b' });
    expect(ok.headers.get('x-correlation-id')).toBe('req-42.a_b');
  });
});

describe('jsonDepthExceeds', () => {
  const depth = (s: string, limit: number) => jsonDepthExceeds(Buffer.from(s), limit);
  it.each([
    ['{}', 1, false],
    ['[[]]', 1, true],
    ['[[]]', 2, false],
    ['{"a":{"b":[1]}}', 3, false],
    ['{"a":{"b":[1]}}', 2, true],
    ['"[[[[[["', 1, false],
    ['["\\"[[["]', 1, false],
    ['["\\\\",[[]]]', 2, true],
  ])('%s with limit %d → %s', (s, limit, expected) => {
    expect(depth(s, limit)).toBe(expected);
  });
});

describe('correlation and trace ids', () => {
  it('accepts ids of letters, digits, _ . - up to 128 characters only', () => {
    expect(acceptCorrelationId('abc-123')).toBe('abc-123');
    expect(acceptCorrelationId('a'.repeat(128))).toBe('a'.repeat(128));
    for (const bad of ['', 'a'.repeat(129), 'a b', 'a\u0000', 'ä', ['a', 'b'], undefined]) {
      expect(acceptCorrelationId(bad)).toMatch(/^[0-9a-f-]{36}$/);
    }
  });

  it('accepts a W3C traceparent, not an all-zero or version-ff one', () => {
    const tp = `00-${'a'.repeat(32)}-${'b'.repeat(16)}-01`;
    expect(acceptTraceparent(tp)).toBe(tp);
    for (const bad of [
      `00-${'0'.repeat(32)}-${'b'.repeat(16)}-01`,
      `00-${'a'.repeat(32)}-${'0'.repeat(16)}-01`,
      `ff-${'a'.repeat(32)}-${'b'.repeat(16)}-01`,
      'junk',
    ]) {
      expect(acceptTraceparent(bad)).not.toBe(bad);
    }
  });
});

describe('HTTP settings', () => {
  it('defaults: 30 s per request, 10 s for headers, 32 KiB of headers, JSON depth 32', () => {
    expect(HttpEnvSchema.parse({})).toEqual({
      HTTP_REQUEST_TIMEOUT_MS: 30000,
      HTTP_HEADERS_TIMEOUT_MS: 10000,
      HTTP_MAX_HEADER_BYTES: 32768,
      HTTP_MAX_JSON_DEPTH: 32,
    });
    expect(httpSettings({ HTTP_MAX_JSON_DEPTH: 8 }).HTTP_MAX_JSON_DEPTH).toBe(8);
  });
});
