/**
 * The fault suite (not in CI; `npm run test:faults`): the five services as processes on a broker
 * of their own, steady load, and every fault one after another with the pipeline audit after each.
 *
 *   npm run test:faults -- [--rate 200] [--users 500] [--groups 50] [--only kill,broker]
 *     [--quick] [--broker-port 19640] [--http-base 19650] [--json results.json]
 *
 * Prints per fault: faults injected, messages sent and checked, lost, duplicated (routing,
 * outcomes, deliveries), readiness and lag; exit code 1 when a fault failed. See docs/fault-suite.md.
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import {
  formatFaultResults,
  FULL_FAULTS,
  QUICK_FAULTS,
  runFault,
  type FaultResult,
} from '../../libs/testing/src/fault-suite';
import { FaultWorld } from '../../libs/testing/src/fault-world';

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      rate: { type: 'string', default: '200' },
      users: { type: 'string', default: '500' },
      groups: { type: 'string', default: '50' },
      only: { type: 'string' },
      quick: { type: 'boolean', default: false },
      'broker-port': { type: 'string', default: '19640' },
      'http-base': { type: 'string', default: '19650' },
      json: { type: 'string' },
    },
  });
  let faults = values.quick ? QUICK_FAULTS() : FULL_FAULTS();
  if (values.only) {
    const want = values.only.split(',').map((s) => s.trim().toLowerCase());
    faults = faults.filter((f) => want.some((w) => f.name.toLowerCase().includes(w)));
  }
  if (faults.length === 0) throw new Error(`no fault matches --only ${values.only}`);
  const world = new FaultWorld({
    brokerPort: Number(values['broker-port']),
    httpBasePort: Number(values['http-base']),
    users: Number(values.users),
    groups: Number(values.groups),
  });
  const started = Date.now();
  const results: FaultResult[] = [];
  try {
    await world.start();
    for (const [i, f] of faults.entries()) {
      results.push(await runFault(world, f, i, { rate: Number(values.rate) }));
    }
  } finally {
    await world.stop().catch((e: Error) => console.error(`stopping: ${e.message}`));
  }
  console.log(`\n${formatFaultResults(results)}`);
  console.log(
    `\n${results.length} faults, ${results.reduce((s, r) => s + r.injected, 0)} injected, ${results.reduce((s, r) => s + r.checked, 0)} inputs checked, ${results.reduce((s, r) => s + r.lost, 0)} lost, ${results.reduce((s, r) => s + r.routingDuplicates, 0)} duplicated by routing, ${results.reduce((s, r) => s + r.deliveredTwice, 0)} delivered twice; ${((Date.now() - started) / 1000).toFixed(0)} s; logs in ${world.dir}/logs`,
  );
  const out = values.json ?? `${world.dir}/results.json`;
  writeFileSync(out, JSON.stringify(results, null, 2));
  console.log(`results: ${out}`);
  return results.every((r) => r.ok) ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (e: Error) => {
    console.error(`fault suite failed: ${e.stack ?? e.message}`);
    process.exit(2);
  },
);
