/** `15m`, `2h`, `30s`, `1d` ago; an ISO time; or epoch milliseconds (the ops scripts' --since). */
export function parseTime(v: string, now = Date.now()): number {
  const rel = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/.exec(v);
  if (rel) {
    const unit = { ms: 1, s: 1000, m: 60000, h: 3600000, d: 86400000 }[rel[2] as 'ms'];
    return now - Number(rel[1]) * unit;
  }
  if (/^\d{10,}$/.test(v)) return Number(v);
  const t = Date.parse(v);
  if (Number.isNaN(t)) throw new Error(`not a time: ${v}`);
  return t;
}
