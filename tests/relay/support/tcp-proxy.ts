// A TCP proxy in front of a server the test must not stop (the shared Postgres): pointing a worker at it
// lets a test take "the database" away from that worker alone — refuse new connections, or answer them the
// way a restarting Postgres does, cut the open ones — and give it back on the same port.
import net from 'node:net';
import type { AddressInfo } from 'node:net';

export interface TcpProxy {
  port: number;
  /** New connections are refused (open ones go on until cut() or their server closes them). */
  refuse(): void;
  /** New connections get this first answer and are closed: `startingUp` is what Postgres sends while it
      starts or recovers (FATAL 57P03). Open ones go on. */
  answerWith(bytes: Buffer): void;
  /** Cuts every open connection. */
  cut(): void;
  /** Accepts connections again on the same port. */
  accept(): Promise<void>;
  close(): void;
}

export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  const sockets = new Set<net.Socket>();
  let answer: Buffer | undefined;
  const relay = (client: net.Socket) => {
    if (answer) {
      const reply = answer;
      client.on('error', () => {});
      client.once('data', () => client.end(reply));
      return;
    }
    const upstream = net.connect(target.port, target.host);
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => {});
    }
    client.pipe(upstream);
    upstream.pipe(client);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  };
  let server: net.Server | undefined;
  const listen = (port: number) =>
    new Promise<number>((resolve, reject) => {
      const candidate = net.createServer(relay);
      candidate.once('error', reject);
      candidate.listen(port, '127.0.0.1', () => {
        candidate.off('error', reject);
        server = candidate;
        resolve((candidate.address() as AddressInfo).port);
      });
    });
  // a server's close() stops accepting at once; its callback would wait for the open connections
  const refuse = () => {
    server?.close();
    server = undefined;
  };
  const cut = () => {
    for (const socket of sockets) socket.destroy();
  };
  const port = await listen(0);
  return {
    port,
    refuse,
    cut,
    answerWith: (bytes) => void (answer = bytes),
    async accept() {
      answer = undefined;
      if (!server) await listen(port);
    },
    close() {
      refuse();
      cut();
    },
  };
}

/** A Postgres ErrorResponse (protocol v3) ending a connection at start-up. */
export function postgresFatal(code: string, message: string): Buffer {
  const fields = Buffer.from(`SFATAL\0VFATAL\0C${code}\0M${message}\0\0`, 'utf8');
  const header = Buffer.alloc(5);
  header.write('E', 0, 'ascii');
  header.writeUInt32BE(fields.length + 4, 1);
  return Buffer.concat([header, fields]);
}

export const startingUp = postgresFatal('57P03', 'the database system is starting up');
