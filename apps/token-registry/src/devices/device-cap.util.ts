/**
 * The devices to evict when a user has more than `max`: the least recently registered go first;
 * the device being registered (`keep`) never does. `devices` come most recently registered first.
 */
export function devicesToEvict(
  devices: ReadonlyArray<{ deviceId: string }>,
  keep: string,
  max: number,
): string[] {
  if (devices.length <= max) return [];
  return devices
    .filter((d) => d.deviceId !== keep)
    .slice(max - 1)
    .map((d) => d.deviceId);
}
