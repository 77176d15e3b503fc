/**
 * Writes docs/asyncapi.yaml, the AsyncAPI 3.0 document of every Kafka topic, generated from
 * libs/contracts (`TOPICS`: name, key, cleanup policy and topic settings, the zod schema of the
 * values as JSON Schema): `npm run asyncapi`. `--check` only compares and exits 1 when the file
 * is out of date. A test (test/integration/observability/asyncapi.int-spec.ts) fails when the
 * committed file differs from what the contracts generate.
 */
import { HEADERS, TOPICS, type TopicDefinition, type TopicKey } from '@app/contracts';
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { stringify } from 'yaml';
import { z } from 'zod';

export const ASYNCAPI_FILE = resolve(__dirname, '../../docs/asyncapi.yaml');

type Json = Record<string, unknown>;

/** Who writes and who reads each topic (`service` or `service/stage`; external parties named so). */
const FLOWS: Record<TopicKey, { send: string[]; receive: string[] }> = {
  imMessageSent: { send: ['upstream', 'routing/messages-api'], receive: ['routing/fanout'] },
  imMessageRecalled: {
    send: ['upstream', 'routing/messages-api'],
    receive: ['routing/fanout'],
  },
  imConversationRead: {
    send: ['upstream', 'routing/messages-api'],
    receive: ['routing/decide'],
  },
  imGroupMembers: { send: ['upstream'], receive: ['routing/fanout'] },
  presenceDeviceEvent: { send: ['im-gateways', 'presence'], receive: ['presence'] },
  presenceUserState: { send: ['presence'], receive: ['presence', 'routing/decide'] },
  tokenUserDevices: { send: ['token-registry'], receive: ['routing/decide'] },
  pushIntent: { send: ['routing/fanout'], receive: ['routing/decide'] },
  routingBadgeState: { send: ['routing/decide'], receive: ['routing/decide'] },
  apnsRequest: { send: ['routing/decide'], receive: ['apns-dispatcher'] },
  apnsRetry: { send: ['apns-dispatcher'], receive: ['apns-dispatcher'] },
  fcmRequest: { send: ['routing/decide'], receive: ['fcm-dispatcher'] },
  fcmRetry: { send: ['fcm-dispatcher'], receive: ['fcm-dispatcher'] },
  pushOutcome: {
    send: ['routing/decide', 'apns-dispatcher', 'fcm-dispatcher'],
    receive: ['delivery-reports/store', 'delivery-reports/webhooks', 'analytics'],
  },
  tokenInvalidated: { send: ['apns-dispatcher', 'fcm-dispatcher'], receive: ['token-registry'] },
  pushTask: { send: ['routing/pushes-api'], receive: ['routing/decide'] },
  routingTaskProgress: {
    send: ['routing/decide'],
    receive: ['routing/decide', 'delivery-reports/tasks'],
  },
  pushTaskControl: { send: ['routing/pushes-api'], receive: ['routing/decide'] },
  webhookRetry: {
    send: ['delivery-reports/webhooks'],
    receive: ['delivery-reports/webhook-retries'],
  },
  deadLetter: {
    send: [
      'token-registry',
      'presence',
      'routing',
      'apns-dispatcher',
      'fcm-dispatcher',
      'delivery-reports',
    ],
    receive: ['operators'],
  },
};

const PARTIES: Record<string, string> = {
  upstream: 'the chat backends (outside the platform)',
  'im-gateways': 'the IM connection gateways (outside the platform)',
  analytics: 'whoever else follows deliveries (outside the platform)',
  operators: 'operators, through `scripts/ops/replay-dead-letters.ts`',
};

const KEYS: Record<TopicDefinition<unknown>['keySpace'], string> = {
  user: '`appId:userId`',
  conversation: '`appId:conversationType:conversationId` (a group: `appId:group:groupId`)',
  source: "the failed record's key (else `topic:partition`)",
  webhook: '`appId:<first 16 hex digits of the SHA-256 of the webhook URL>`',
  task: '`taskId` (progress: `taskId:partition`), written to an explicit partition',
};

/** `routing/fanout` → `routingFanout`; `apns-dispatcher` → `apnsDispatcher`. */
const camel = (s: string) => s.replace(/[/-]([a-z])/g, (_, c: string) => c.toUpperCase());

/** A topic's values as JSON Schema (draft-07, AsyncAPI's default schema format). */
function payloadOf(topic: TopicDefinition<unknown>): Json {
  // `input`: what a value may be on the wire (the schema accepts it), as producers write it.
  const schema = z.toJSONSchema(topic.schema, {
    target: 'draft-7',
    io: 'input',
    unrepresentable: 'any',
  }) as Json;
  delete schema.$schema;
  return topic.cleanup === 'compact'
    ? { ...schema, description: 'A snapshot; a null value (tombstone) deletes the key.' }
    : schema;
}

const headersOf = (topic: TopicDefinition<unknown>): Json => ({
  type: 'object',
  properties: {
    [HEADERS.contentType]: { type: 'string', const: 'application/json' },
    [HEADERS.eventType]: { type: 'string', const: topic.eventType },
    [HEADERS.traceparent]: {
      type: 'string',
      description: 'W3C trace context of the span that produced the record.',
      pattern: '^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$',
    },
    [HEADERS.correlationId]: {
      type: 'string',
      description: 'Follows a message from the request that caused it.',
      pattern: '^[A-Za-z0-9._:/=+-]{1,128}$',
    },
  },
  required: [HEADERS.contentType, HEADERS.eventType],
});

/** The AsyncAPI 3.0 document of `TOPICS`. */
export function buildAsyncApiDocument(): Json {
  const version = (
    JSON.parse(readFileSync(resolve(__dirname, '../../package.json'), 'utf8')) as {
      version: string;
    }
  ).version;
  const channels: Json = {};
  const operations: Json = {};
  const messages: Json = {};
  for (const [id, topic] of Object.entries(TOPICS) as Array<[TopicKey, TopicDefinition<unknown>]>) {
    const message = camel(topic.eventType.replace(/\./g, '-'));
    messages[message] = {
      name: topic.eventType,
      title: topic.eventType,
      contentType: 'application/json',
      headers: headersOf(topic),
      payload: payloadOf(topic),
      bindings: {
        kafka: {
          key: { type: 'string', description: `Record key: ${KEYS[topic.keySpace]}.` },
          bindingVersion: '0.5.0',
        },
      },
    };
    const config: Json = { 'cleanup.policy': [topic.cleanup] };
    for (const [k, v] of Object.entries(topic.config ?? {})) {
      config[k] = /^\d+$/.test(v) ? Number(v) : v;
    }
    channels[id] = {
      address: topic.name,
      title: topic.name,
      description:
        `Key ${KEYS[topic.keySpace]}; cleanup \`${topic.cleanup}\`; ` +
        'partitions: `KAFKA_PARTITIONS` (the same for every co-partitioned topic).',
      messages: { [message]: { $ref: `#/components/messages/${message}` } },
      bindings: {
        kafka: { topic: topic.name, topicConfiguration: config, bindingVersion: '0.5.0' },
      },
    };
    for (const action of ['send', 'receive'] as const) {
      for (const party of FLOWS[id][action]) {
        operations[`${camel(party)}_${action}_${id}`] = {
          action,
          channel: { $ref: `#/channels/${id}` },
          title: `${party} ${action === 'send' ? 'writes' : 'reads'} ${topic.name}`,
          ...(PARTIES[party] ? { description: PARTIES[party] } : {}),
          messages: [{ $ref: `#/channels/${id}/messages/${message}` }],
          tags: [{ name: party.split('/')[0] }],
        };
      }
    }
  }
  return {
    asyncapi: '3.0.0',
    info: {
      title: 'offline-push Kafka topics',
      version,
      description:
        'Every topic of the platform, generated from libs/contracts by `npm run asyncapi` ' +
        '(do not edit by hand). Values are JSON validated against these schemas by every ' +
        'producer; a consumer dead-letters what fails them (push.dead-letter.v1).',
    },
    defaultContentType: 'application/json',
    servers: {
      local: {
        host: '127.0.0.1:9092',
        protocol: 'kafka',
        description: 'The local broker (`KAFKA_BROKERS`); TLS and SASL as configured.',
      },
    },
    channels,
    operations,
    components: { messages },
  };
}

/** The document as YAML, formatted as the repository's Prettier settings want it (the file is committed). */
export async function renderAsyncApiYaml(): Promise<string> {
  const yaml =
    '# Generated from libs/contracts by `npm run asyncapi` (scripts/ops/asyncapi.ts): do not edit.\n' +
    stringify(buildAsyncApiDocument(), { lineWidth: 0, aliasDuplicateObjects: false });
  // Loaded here: Prettier cannot be loaded inside Jest, which imports this file for its test.
  const { format, resolveConfig } = await import('prettier');
  return format(yaml, { ...(await resolveConfig(ASYNCAPI_FILE)), parser: 'yaml' });
}

async function main(): Promise<void> {
  const yaml = await renderAsyncApiYaml();
  if (process.argv.includes('--check')) {
    const current = readFileSync(ASYNCAPI_FILE, 'utf8');
    if (current !== yaml) {
      console.error(`${ASYNCAPI_FILE} is out of date: run npm run asyncapi`);
      process.exit(1);
    }
    console.log(`${ASYNCAPI_FILE} is up to date`);
  } else {
    writeFileSync(ASYNCAPI_FILE, yaml);
    console.log(`wrote ${ASYNCAPI_FILE}`);
  }
}

if (require.main === module) void main();
