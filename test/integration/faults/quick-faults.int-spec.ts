import {
  formatFaultResults,
  QUICK_FAULTS,
  runFault,
  type FaultResult,
} from '../../../libs/testing/src/fault-suite';
import { FaultWorld } from '../../../libs/testing/src/fault-world';

/**
 * The quick part of the fault suite (the whole suite: `npm run test:faults`, docs/fault-suite.md):
 * the five services as processes on a broker of their own, 20 messages a second of c2c and group
 * traffic, and kill -9 of routing, kill -9 of the APNs dispatcher, a provider 503 burst followed by
 * 429s with Retry-After, and poison and oversized inputs. After each, the pipeline audit must show
 * nothing lost, no job written twice by routing, no delivery twice outside the at-least-once
 * bound, every service ready and every consumer group drained. About 2.5 minutes here.
 */
describe('fault suite (quick part)', () => {
  const world = new FaultWorld({ brokerPort: 19660, httpBasePort: 19670, users: 60, groups: 10 });
  const results: FaultResult[] = [];
  const faults = QUICK_FAULTS();

  beforeAll(async () => {
    await world.start();
  }, 240000);

  afterAll(async () => {
    if (results.length) process.stderr.write(`\n${formatFaultResults(results)}\n\n`);
    await world.stop();
  }, 60000);

  it.each(faults.map((f, i) => [f.name, i] as const))(
    '%s: nothing lost, nothing sent twice by routing, every consumer drained',
    async (_name, i) => {
      const r = await runFault(world, faults[i], i, { rate: 20 });
      results.push(r);
      expect(r.problems).toEqual([]);
      expect(r.lost).toBe(0);
      expect(r.routingDuplicates).toBe(0);
      expect(r.ready).toBe(true);
      expect(r.lagPending).toBe(0);
      expect(r.messages).toBeGreaterThan(0);
    },
    240000,
  );
});
