/**
 * Reconciles the pipeline over a window: messages → intents → requests → final outcomes.
 *
 *   npm run audit:pipeline -- [--brokers host:port,...] [--since 15m|<ISO time>|<epoch ms>]
 *     [--until <same>] [--from-offsets 0:120,1:98,...] [--to-offsets ...] [--prefix <messageId prefix>]
 *     [--grace 60] [--lag] [--max-provider-duplicates N] [--json]
 *
 * Reads im.message.sent.v1 in the window and, read_committed, everything it caused
 * (push.intent.v1, the request and retry topics, push.outcome.v1, push.dead-letter.v1). Prints a
 * table (or JSON with --json). Exit code 1 when anything was lost or routing wrote a job twice
 * (or more provider duplicates than allowed), 2 when the audit could not run. See
 * docs/fault-suite.md for the rules.
 */
import { parseArgs } from 'node:util';
import { auditPipeline, formatAuditReport } from '../../libs/testing/src/pipeline-audit';
import { parseTime } from './time-arg';

const USAGE = `usage: npm run audit:pipeline -- [--brokers h:p,...] [--since 15m|ISO|ms] [--until ...]
  [--from-offsets p:o,...] [--to-offsets p:o,...] [--prefix id-prefix] [--grace seconds]
  [--lag] [--max-provider-duplicates N] [--timeout seconds] [--json]`;

/** `0:120,1:98` → { 0: '120', 1: '98' } */
export function parseOffsets(v: string): Record<number, string> {
  const out: Record<number, string> = {};
  for (const part of v.split(',').filter(Boolean)) {
    const m = /^(\d+):(\d+)$/.exec(part.trim());
    if (!m) throw new Error(`not partition:offset: ${part}`);
    out[Number(m[1])] = m[2];
  }
  return out;
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      brokers: { type: 'string', default: process.env.KAFKA_BROKERS ?? '127.0.0.1:9092' },
      since: { type: 'string' },
      until: { type: 'string' },
      'from-offsets': { type: 'string' },
      'to-offsets': { type: 'string' },
      prefix: { type: 'string' },
      grace: { type: 'string', default: '60' },
      lag: { type: 'boolean', default: false },
      'max-provider-duplicates': { type: 'string' },
      timeout: { type: 'string', default: '300' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const report = await auditPipeline({
    brokers: values.brokers.split(','),
    since: values.since ? parseTime(values.since) : undefined,
    until: values.until ? parseTime(values.until) : undefined,
    fromOffsets: values['from-offsets'] ? parseOffsets(values['from-offsets']) : undefined,
    toOffsets: values['to-offsets'] ? parseOffsets(values['to-offsets']) : undefined,
    messageIdPrefix: values.prefix,
    graceMs: Number(values.grace) * 1000,
    lag: values.lag,
    maxProviderDuplicates:
      values['max-provider-duplicates'] !== undefined
        ? Number(values['max-provider-duplicates'])
        : undefined,
    readTimeoutMs: Number(values.timeout) * 1000,
  });
  console.log(values.json ? JSON.stringify(report, null, 2) : formatAuditReport(report));
  return report.ok ? 0 : 1;
}

if (require.main === module) {
  main().then(
    (code) => process.exit(code),
    (e: Error) => {
      console.error(`audit failed: ${e.message}\n${USAGE}`);
      process.exit(2);
    },
  );
}
