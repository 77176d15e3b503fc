import { connect, createServer, type Server, type Socket } from 'node:net';

/** One connection through the tap: when it opened and which side closed it first, when. */
export interface TappedConnection {
  openedAt: number;
  /** The client (the dispatcher) ended or reset the connection. */
  clientClosedAt?: number;
  /** The server (the fake) ended or reset it. */
  serverClosedAt?: number;
}

/**
 * A TCP pass-through in front of a server (TLS goes through untouched), recording each
 * connection's life, so that a test sees from the outside whether the client gave a request up
 * (closed its connection) or left it running.
 */
export class TcpTap {
  readonly connections: TappedConnection[] = [];
  private readonly sockets = new Set<Socket>();
  private server!: Server;
  port = 0;

  constructor(
    private readonly host: string,
    private readonly targetPort: number,
  ) {}

  async start(): Promise<this> {
    this.server = createServer((client) => {
      const c: TappedConnection = { openedAt: Date.now() };
      this.connections.push(c);
      const upstream = connect(this.targetPort, this.host);
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('error', () => undefined);
      }
      client.pipe(upstream);
      upstream.pipe(client);
      const clientGone = () => {
        c.clientClosedAt ??= Date.now();
        upstream.destroy();
      };
      const serverGone = () => {
        c.serverClosedAt ??= Date.now();
        client.destroy();
      };
      client.on('end', clientGone);
      client.on('close', () => {
        this.sockets.delete(client);
        if (c.serverClosedAt === undefined) clientGone();
      });
      upstream.on('end', serverGone);
      upstream.on('close', () => {
        this.sockets.delete(upstream);
        if (c.clientClosedAt === undefined) serverGone();
      });
    });
    await new Promise<void>((resolve) => this.server.listen(0, this.host, resolve));
    this.port = (this.server.address() as { port: number }).port;
    return this;
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
