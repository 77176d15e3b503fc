/** Stops the containers that global-setup started (the local infra keeps running: it is reused). */
export default async function globalTeardown(): Promise<void> {
  const containers = (globalThis as Record<string, unknown>).__containers as
    Array<{ stop(): Promise<unknown> }> | undefined;
  await Promise.all((containers ?? []).map((c) => c.stop()));
}
