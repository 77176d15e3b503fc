import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * When each accepted push reached a fake provider, for the end-to-end benchmark: a key (the
 * message id the push carries) and the epoch ms of its arrival, in two growing arrays (about 60
 * bytes a push, no payload kept). A fake's control port serves it with `serve`.
 */
export class ArrivalLog {
  private readonly keys: string[] = [];
  private readonly ats: number[] = [];

  add(key: string | undefined, at: number): void {
    this.keys.push(key ?? '');
    this.ats.push(at);
  }

  get count(): number {
    return this.ats.length;
  }

  clear(): void {
    this.keys.length = 0;
    this.ats.length = 0;
  }

  /** Arrivals from index `from` on (at most `limit`), and where the next read starts. */
  slice(from: number, limit = 200_000): { next: number; keys: string[]; ats: number[] } {
    const end = Math.min(this.ats.length, from + limit);
    return { next: end, keys: this.keys.slice(from, end), ats: this.ats.slice(from, end) };
  }

  /**
   * `GET /arrivals?from=N` (JSON `{ next, keys, ats }`), `GET /arrivals/count`, `POST
   * /arrivals/clear`; false for any other request (the caller answers it).
   */
  serve(req: IncomingMessage, res: ServerResponse): boolean {
    const url = new URL(req.url ?? '/', 'http://fake');
    if (!url.pathname.startsWith('/arrivals')) return false;
    res.setHeader('content-type', 'application/json');
    if (url.pathname === '/arrivals/count') {
      res.end(JSON.stringify({ count: this.count }));
    } else if (url.pathname === '/arrivals/clear' && req.method === 'POST') {
      this.clear();
      res.end(JSON.stringify({ count: 0 }));
    } else {
      res.end(JSON.stringify(this.slice(Number(url.searchParams.get('from') ?? 0))));
    }
    return true;
  }
}
