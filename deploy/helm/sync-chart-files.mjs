/**
 * Writes the chart's copies of what the repository defines elsewhere, so that the chart never
 * drifts from it:
 *
 *   offline-push/files/topics.yaml  every topic of libs/contracts (name, key space, cleanup policy
 *                                   and the contract's own config), read by the KafkaTopic template
 *   offline-push/files/alerts.yaml  deploy/prometheus/alerts.yaml (Prometheus rule-file format),
 *                                   read by the PrometheusRule template
 *
 *   npx tsx deploy/helm/sync-chart-files.mjs           # write them
 *   npx tsx deploy/helm/sync-chart-files.mjs --check   # exit 1 naming each file that differs
 *
 * Run through tsx: it imports the contracts' TypeScript directly.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const chartFiles = join(here, 'offline-push', 'files');
const check = process.argv.includes('--check');

const contracts = await import(join(root, 'libs/contracts/src/topics/topics.ts'));
const allTopics = contracts.ALL_TOPICS ?? contracts.default?.ALL_TOPICS;
if (!Array.isArray(allTopics)) throw new Error('ALL_TOPICS not found in libs/contracts');

const topicsYaml =
  '# Generated from libs/contracts/src/topics/topics.ts by deploy/helm/sync-chart-files.mjs.\n' +
  '# Do not edit: run `npx tsx deploy/helm/sync-chart-files.mjs` after changing the contracts.\n' +
  stringify(
    {
      topics: allTopics.map((t) => ({
        name: t.name,
        keySpace: t.keySpace,
        config: { 'cleanup.policy': t.cleanup, ...(t.config ?? {}) },
      })),
    },
    { lineWidth: 0 },
  );

const alertsSource = join(root, 'deploy/prometheus/alerts.yaml');
const alertsYaml = existsSync(alertsSource)
  ? readFileSync(alertsSource, 'utf8')
  : '# deploy/prometheus/alerts.yaml does not exist yet: no rules.\ngroups: []\n';

let stale = 0;
for (const [name, text] of [
  ['topics.yaml', topicsYaml],
  ['alerts.yaml', alertsYaml],
]) {
  const path = join(chartFiles, name);
  const current = existsSync(path) ? readFileSync(path, 'utf8') : undefined;
  if (current === text) continue;
  if (check) {
    console.error(
      `${relative(root, path)} is out of date: run npx tsx deploy/helm/sync-chart-files.mjs`,
    );
    stale++;
  } else {
    writeFileSync(path, text);
    console.log(`wrote ${relative(root, path)}`);
  }
}
process.exit(stale ? 1 : 0);
