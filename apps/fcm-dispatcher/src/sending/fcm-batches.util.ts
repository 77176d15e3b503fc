/** Requests of one app, at most `size` of them, with their positions in the input. */
export interface AppBatch<R> {
  appId: string;
  items: R[];
  indexes: number[];
}

/** Groups requests per app (FCM calls are per project) and cuts each group into `size`-long batches. */
export function planBatches<R extends { appId: string }>(
  requests: readonly R[],
  size: number,
): AppBatch<R>[] {
  if (!Number.isInteger(size) || size < 1) throw new Error(`batch size must be >= 1 (${size})`);
  const byApp = new Map<string, number[]>();
  requests.forEach((r, i) => {
    const list = byApp.get(r.appId);
    if (list) list.push(i);
    else byApp.set(r.appId, [i]);
  });
  const out: AppBatch<R>[] = [];
  for (const [appId, idx] of byApp) {
    for (let i = 0; i < idx.length; i += size) {
      const indexes = idx.slice(i, i + size);
      out.push({ appId, indexes, items: indexes.map((j) => requests[j]) });
    }
  }
  return out;
}
