import { Agent, type AgentOptions } from 'node:https';
import { isIP, type Socket } from 'node:net';
import { connect, type ConnectionOptions } from 'node:tls';

export interface RedirectTarget {
  host: string;
  port: number;
  /** PEM of the CA that signed the target's certificate (a fake's, or an egress proxy's). */
  ca?: string;
}

/**
 * Sends every HTTPS connection made through it to one host and port, whatever host the request
 * named, as an egress proxy in front of Google would see them. firebase-admin's send host
 * (`fcm.googleapis.com`) and google-auth-library's token URL (`oauth2.googleapis.com`) are fixed
 * in their code; this agent is how both reach a fake or a proxy. The certificate is checked
 * against the target's name, with the target's CA.
 */
export class RedirectAgent extends Agent {
  constructor(
    private readonly target: RedirectTarget,
    options: AgentOptions = {},
  ) {
    super({ keepAlive: true, ...options });
  }

  override createConnection(
    options: ConnectionOptions,
    cb?: (err: Error | null, s: Socket) => void,
  ): Socket {
    const socket = connect({
      ...options,
      host: this.target.host,
      port: this.target.port,
      servername: isIP(this.target.host) ? undefined : this.target.host,
      ca: this.target.ca ?? options.ca,
      ALPNProtocols: ['http/1.1'],
    });
    if (cb) socket.once('secureConnect', () => cb(null, socket));
    return socket;
  }
}
