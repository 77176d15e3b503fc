/**
 * Locale fallback for texts chosen per device (`RegisteredDevice.locale`, a BCP 47 tag such as
 * `zh-Hant-TW`): the exact tag, then the tag with its last subtag removed, and so on
 * (`zh-Hant-TW` → `zh-Hant` → `zh`), compared case-insensitively and with `_` read as `-`; then
 * the `default` entry when the table has one. Undefined when nothing matches.
 */
export function localeChain(locale: string | null | undefined): string[] {
  if (!locale) return [];
  const parts = locale.replace(/_/g, '-').toLowerCase().split('-').filter(Boolean);
  const chain: string[] = [];
  for (let n = parts.length; n > 0; n--) chain.push(parts.slice(0, n).join('-'));
  return chain;
}

/** The entry of `table` for `locale` by the fallback chain above. */
export function pickLocalized<T>(
  table: Readonly<Record<string, T>> | null | undefined,
  locale: string | null | undefined,
): T | undefined {
  if (!table) return undefined;
  const chain = localeChain(locale);
  if (chain.length > 0) {
    const byLower = new Map<string, T>();
    for (const [k, v] of Object.entries(table)) byLower.set(k.replace(/_/g, '-').toLowerCase(), v);
    for (const tag of chain) {
      const hit = byLower.get(tag);
      if (hit !== undefined) return hit;
    }
  }
  return table.default;
}
