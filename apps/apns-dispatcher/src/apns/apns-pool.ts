import { Semaphore } from '@app/dispatch';
import type { ApnsRawAnswer } from './apns-response.classifier';
import {
  ApnsConnection,
  type ApnsConnectionOptions,
  type ApnsHttpRequest,
} from './apns-connection';

/**
 * The connections of one (app, environment): sends go to the least-loaded connection, with at
 * most `perConnection` streams in flight on each (node-apn itself has no limit: a server with a
 * stream limit would refuse the excess). Waiters queue in arrival order.
 */
export class ApnsPool {
  private readonly connections: ApnsConnection[];
  private readonly slots: Semaphore;

  constructor(size: number, perConnection: number, connectionOptions: ApnsConnectionOptions) {
    this.connections = Array.from({ length: size }, () => new ApnsConnection(connectionOptions));
    this.slots = new Semaphore(size * perConnection);
  }

  /** Never rejects (a connection's `send` answers every failure). */
  send(request: ApnsHttpRequest, token: string, apnsId: string): Promise<ApnsRawAnswer> {
    const go = () =>
      this.pick()
        .send(request, token, apnsId)
        .then((a) => {
          this.slots.release();
          return a;
        });
    // A free slot sends at once, without waiting for a promise of the semaphore.
    return this.slots.tryAcquire() ? go() : this.slots.acquire().then(go);
  }

  get inFlight(): number {
    return this.slots.inUse;
  }

  async close(): Promise<void> {
    await Promise.all(this.connections.map((c) => c.close()));
  }

  private pick(): ApnsConnection {
    let best = this.connections[0];
    for (const c of this.connections) if (c.inFlight < best.inFlight) best = c;
    return best;
  }
}
