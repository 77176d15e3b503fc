import { ALL_TOPICS } from '@app/contracts';
import { Parser } from '@asyncapi/parser';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { ASYNCAPI_FILE, buildAsyncApiDocument } from '../../../scripts/ops/asyncapi';

/**
 * docs/asyncapi.yaml is generated from libs/contracts (`npm run asyncapi`): the committed file must
 * be what the contracts generate now, and must parse as AsyncAPI 3.0 with `@asyncapi/parser`
 * (its JSON Schemas of the spec and the Kafka bindings, and its Spectral rules).
 */
describe('AsyncAPI document', () => {
  const committed = readFileSync(ASYNCAPI_FILE, 'utf8');

  // The content is compared (Prettier's YAML formatting, which the script applies, cannot run
  // inside Jest: `npm run asyncapi -- --check` compares the bytes).
  it('is up to date with libs/contracts (run `npm run asyncapi` when this fails)', () => {
    expect(parse(committed)).toEqual(buildAsyncApiDocument());
  });

  it('parses as AsyncAPI 3.0 without errors', async () => {
    const { document, diagnostics } = await new Parser().parse(committed);
    // Severity 0 is an error; warnings and hints (e.g. "3.1.0 exists") are allowed.
    expect(diagnostics.filter((d) => Number(d.severity) === 0)).toEqual([]);
    expect(document?.version()).toBe('3.0.0');
    const addresses = document!
      .channels()
      .all()
      .map((c) => c.address());
    expect(addresses.sort()).toEqual(ALL_TOPICS.map((t) => t.name).sort());
  });

  it('describes each topic: key, cleanup policy, headers and the schema of its values', () => {
    const doc = parse(committed) as ReturnType<typeof buildAsyncApiDocument> & {
      channels: Record<string, { address: string; bindings: { kafka: Record<string, unknown> } }>;
      components: { messages: Record<string, Record<string, unknown>> };
    };
    for (const topic of ALL_TOPICS) {
      const channel = Object.values(doc.channels).find((c) => c.address === topic.name)!;
      expect(channel.bindings.kafka.topicConfiguration).toMatchObject({
        'cleanup.policy': [topic.cleanup],
      });
      const message = Object.values(doc.components.messages).find(
        (m) => m.name === topic.eventType,
      )!;
      // An object, or a union of objects (push.intent.v1: message and recall intents).
      const payload = message.payload as { type?: string; anyOf?: Array<{ type?: string }> };
      const shapes = payload.anyOf ?? [payload];
      expect(shapes.map((s) => s.type)).toEqual(shapes.map(() => 'object'));
      expect(message.headers).toMatchObject({
        properties: { 'event-type': { const: topic.eventType } },
      });
    }
    const sent = Object.values(doc.components.messages).find(
      (m) => m.name === 'im.message.sent',
    ) as { payload: { required: string[] } };
    expect(sent.payload.required).toEqual(
      expect.arrayContaining(['appId', 'messageId', 'sentAt', 'conversation']),
    );
  });
});
