import {
  Body,
  Controller,
  Get,
  INestApplication,
  Module,
  Param,
  Post,
  UseGuards,
} from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { AppsRegistry, hashApiKey } from '@app/config';
import request from 'supertest';
import { z } from 'zod';
import { ApiKeyGuard } from './api-key.guard';
import { CorrelationMiddleware } from './correlation.middleware';
import { ProblemDetailsFilter } from './problem-details.filter';
import { ZodPipe } from './zod-body.pipe';

const Body1 = z.object({ name: z.string().min(1), count: z.number().int().max(10) });

@Controller('v1/apps/:appId/things')
@UseGuards(ApiKeyGuard)
class ThingsController {
  @Post()
  create(@Param('appId') appId: string, @Body(new ZodPipe(Body1)) body: z.infer<typeof Body1>) {
    return { appId, ...body };
  }

  @Get('boom')
  boom(): never {
    throw new Error('database exploded');
  }
}

@Module({
  controllers: [ThingsController],
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
          {
            id: 'b',
            apiKeys: [hashApiKey('key-b')],
            policy: { suppressWhenOnlineElsewhere: false, offlineAfterDays: 7 },
          },
        ],
      }),
    },
  ],
})
class TestModule {}

describe('HTTP edge: auth, validation, problem+json', () => {
  let app: INestApplication;

  beforeAll(async () => {
    const ref = await Test.createTestingModule({ imports: [TestModule] }).compile();
    app = ref.createNestApplication({ logger: false });
    const mw = new CorrelationMiddleware();
    app.use(mw.use.bind(mw));
    app.useGlobalFilters(new ProblemDetailsFilter());
    await app.init();
  });

  afterAll(() => app.close());

  const post = (path: string, key?: string) => {
    const r = request(app.getHttpServer()).post(path);
    return key ? r.set('authorization', `Bearer ${key}`) : r;
  };

  it('401 without a key or with an unknown one, as problem+json', async () => {
    const none = await post('/v1/apps/a/things').send({ name: 'x', count: 1 });
    expect(none.status).toBe(401);
    expect(none.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(none.body).toMatchObject({
      status: 401,
      code: 'UNAUTHENTICATED',
      title: 'Unauthorized',
    });
    expect((await post('/v1/apps/a/things', 'nope').send({})).status).toBe(401);
  });

  it("403 for another app's path", async () => {
    const res = await post('/v1/apps/b/things', 'key-a').send({ name: 'x', count: 1 });
    expect(res.status).toBe(403);
    expect(res.body.code).toBe('FORBIDDEN');
  });

  it('400 naming every failing field', async () => {
    const res = await post('/v1/apps/a/things', 'key-a').send({ name: '', count: 11.5 });
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('VALIDATION_FAILED');
    expect(res.body.errors.map((e: { field: string }) => e.field).sort()).toEqual([
      'count',
      'name',
    ]);
  });

  it('400 for malformed JSON', async () => {
    const res = await post('/v1/apps/a/things', 'key-a')
      .set('content-type', 'application/json')
      .send('{"name":');
    expect(res.status).toBe(400);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
  });

  it('passes a valid request and echoes the correlation id', async () => {
    const res = await post('/v1/apps/a/things', 'key-a')
      .set('x-correlation-id', 'abc-123')
      .send({ name: 'x', count: 2 });
    expect(res.status).toBe(201);
    expect(res.body).toEqual({ appId: 'a', name: 'x', count: 2 });
    expect(res.headers['x-correlation-id']).toBe('abc-123');
  });

  it('500 carries an error id and no internals', async () => {
    const res = await request(app.getHttpServer())
      .get('/v1/apps/a/things/boom')
      .set('authorization', 'Bearer key-a');
    expect(res.status).toBe(500);
    expect(res.body.errorId).toMatch(/^[0-9a-f-]{36}$/);
    expect(JSON.stringify(res.body)).not.toContain('database exploded');
  });
});
