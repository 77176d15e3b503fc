/**
 * Metric names in PromQL expressions and in Prometheus text expositions, for checking that the
 * dashboard and the alert rules only name metrics the services expose.
 */

const KEYWORDS = new Set([
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'bool',
  'offset',
  'and',
  'or',
  'unless',
  'atan2',
  'inf',
  'nan',
]);

/**
 * The metric names an expression selects: identifiers that are not functions or aggregations
 * (followed by `(`), keywords, label names (inside `{…}`, `by (…)`, `on (…)`…), durations
 * (inside `[…]` or after a number) or inside strings. Grafana variables (`$app`,
 * `$__rate_interval`, `${x}`) are dropped first.
 */
export function metricNamesIn(expr: string): string[] {
  const e = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""')
    .replace(/\$\{[^}]*\}|\$[A-Za-z_]\w*/g, '1')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
  const names = new Set<string>();
  for (const m of e.matchAll(/(?<![\w:.])[A-Za-z_:][\w:]*(?!\s*\()/g)) {
    const tail = e.slice(m.index + m[0].length);
    if (/^[\w:]/.test(tail)) continue; // a shorter match inside a function name
    if (!KEYWORDS.has(m[0].toLowerCase())) names.add(m[0]);
  }
  return [...names];
}

/** `label_values(metric, label)` or `query_result(expr)` of a Grafana variable: its names. */
export function metricNamesInVariable(query: string): string[] {
  const lv = /^\s*label_values\(\s*([^,)]+)(?:,[^)]*)?\)\s*$/.exec(query);
  if (lv) return metricNamesIn(lv[1]);
  const qr = /^\s*query_result\((.*)\)\s*$/s.exec(query);
  if (qr) return metricNamesIn(qr[1]);
  if (/^\s*(label_names|metrics)\(/.test(query)) return [];
  return metricNamesIn(query);
}

/**
 * The sample names a `/metrics` text can hold: every `# TYPE` (a histogram also as its `_bucket`,
 * `_sum` and `_count` series, a summary as `_sum` and `_count`), and every sample line.
 */
export function exposedNames(text: string): Set<string> {
  const out = new Set<string>();
  for (const line of text.split('\n')) {
    const t = /^# TYPE (\S+) (\w+)/.exec(line);
    if (t) {
      out.add(t[1]);
      if (t[2] === 'histogram') for (const s of ['_bucket', '_sum', '_count']) out.add(t[1] + s);
      if (t[2] === 'summary') for (const s of ['_sum', '_count']) out.add(t[1] + s);
      continue;
    }
    const s = /^([A-Za-z_:][\w:]*)[{ ]/.exec(line);
    if (s) out.add(s[1]);
  }
  return out;
}

/** Every PromQL expression of a Grafana dashboard (panel targets, nested rows, variables). */
export function dashboardExpressions(dashboard: unknown): { where: string; names: string[] }[] {
  const out: { where: string; names: string[] }[] = [];
  const walk = (x: unknown, where: string) => {
    if (Array.isArray(x)) return x.forEach((v, i) => walk(v, `${where}[${i}]`));
    if (!x || typeof x !== 'object') return;
    const o = x as Record<string, unknown>;
    const here = typeof o.title === 'string' ? `${where} "${o.title}"` : where;
    if (typeof o.expr === 'string') out.push({ where: here, names: metricNamesIn(o.expr) });
    for (const [k, v] of Object.entries(o)) if (k !== 'templating') walk(v, `${here}.${k}`);
  };
  walk(dashboard, 'dashboard');
  const vars = (dashboard as { templating?: { list?: unknown[] } }).templating?.list ?? [];
  for (const v of vars as Array<{ name?: string; type?: string; query?: unknown }>) {
    if (v.type !== 'query') continue;
    const q = typeof v.query === 'string' ? v.query : (v.query as { query?: string })?.query;
    if (q) out.push({ where: `variable $${v.name}`, names: metricNamesInVariable(q) });
  }
  return out;
}
