// Ports for servers a process starts itself (tests, benchmarks, the local launcher, its local chain): one place,
// so every caller gets the same protection against the port being taken between the pick and the bind.
import net from 'node:net';

/** Whether nothing listens on `port` now. */
export function isPortFree(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/** Below Linux's default ephemeral range (32768–60999), where outgoing connections take their local ports. */
const SPARE_PORTS = { from: 20_000, to: 32_767 } as const;

/**
 * A free port for a server this process will start. Picked at random below the ephemeral range and checked
 * free: a port the kernel hands out for port 0 is in that range, where any process's next outgoing connection
 * can take it before our server binds it (seen: a drill's NATS node lost its port that way in a busy test run).
 */
export async function ephemeralPort(host = '127.0.0.1'): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt += 1) {
    const port = SPARE_PORTS.from + Math.floor(Math.random() * (SPARE_PORTS.to - SPARE_PORTS.from + 1));
    if (await isPortFree(port, host)) return port;
  }
  return kernelPort(host);
}

/** A port the operating system has just handed out as free (the fallback when the spare range looks full). */
function kernelPort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen({ port: 0, host }, () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}
