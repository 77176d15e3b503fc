/**
 * Locale fallback for texts chosen per device (`RegisteredDevice.locale`, a BCP 47 tag such as
 * `zh-Hant-TW`): the exact tag, then the tag with its last subtag removed, and so on
 * (`zh-Hant-TW` → `zh-Hant` → `zh`), compared case-insensitively and with `_` read as `-`; a
 * Chinese tag without a script gets the one its region implies before plain `zh` (`zh-TW` →
 * `zh-Hant` → `zh`, `zh-CN` → `zh-Hans` → `zh`); then the `default` entry when the table has one.
 * Undefined when nothing matches.
 */
export function localeChain(locale: string | null | undefined): string[] {
  if (!locale) return [];
  const parts = locale.replace(/_/g, '-').toLowerCase().split('-').filter(Boolean);
  const chain: string[] = [];
  for (let n = parts.length; n > 0; n--) chain.push(parts.slice(0, n).join('-'));
  const script = impliedScript(parts);
  if (script) chain.splice(chain.length - 1, 0, `${parts[0]}-${script}`);
  return chain;
}

/** Chinese regions and the script they write (CLDR likely subtags). */
const CHINESE_SCRIPT_OF_REGION: Readonly<Record<string, string>> = {
  tw: 'hant',
  hk: 'hant',
  mo: 'hant',
  cn: 'hans',
  sg: 'hans',
};

/**
 * The script a tag without one implies: `zh-TW` / `zh-HK` / `zh-MO` write Traditional (`hant`),
 * `zh-CN` / `zh-SG` Simplified (`hans`); undefined for other tags and for tags naming a script.
 */
function impliedScript(parts: readonly string[]): string | undefined {
  if (parts[0] !== 'zh' || parts.length < 2) return undefined;
  if (parts.slice(1).some((p) => /^[a-z]{4}$/.test(p))) return undefined;
  return parts
    .slice(1)
    .map((p) => CHINESE_SCRIPT_OF_REGION[p])
    .find((x) => x !== undefined);
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
