// Asks a server whether it is what we think it is: Postgres lets us in, NATS says hello (and whether
// JetStream is on), Redis answers PING. A bare open port is not enough: another program may hold it.
import net from 'node:net';
import tls from 'node:tls';
import postgres from 'postgres';

export interface Probe {
  /** The server answered and is usable. */
  ok: boolean;
  /** Something listens on the port (it may still have refused us). */
  answered: boolean;
  /** Why it is not usable, or what it is (version) when it is. */
  detail: string;
}

const hostOf = (url: URL) => url.hostname.replace(/^\[|\]$/g, '');

export async function probePostgres(url: string, timeoutSeconds = 3): Promise<Probe> {
  const sql = postgres(url, { max: 1, connect_timeout: timeoutSeconds, idle_timeout: 1, prepare: false, onnotice: () => {} });
  try {
    const [row] = await sql<{ version: string }[]>`select current_setting('server_version') as version`;
    return { ok: true, answered: true, detail: `PostgreSQL ${row?.version ?? ''}`.trim() };
  } catch (error) {
    const code = (error as { code?: string }).code ?? '';
    const refused = ['ECONNREFUSED', 'ENOTFOUND', 'EHOSTUNREACH', 'CONNECT_TIMEOUT', 'ECONNRESET'].includes(code);
    return { ok: false, answered: !refused, detail: (error as Error).message };
  } finally {
    await sql.end({ timeout: 1 }).catch(() => {});
  }
}

/** Opens a connection and collects what the server says first, until `enough` is satisfied. */
function converse(
  url: URL,
  defaultPort: number,
  opening: string | undefined,
  enough: (received: string) => boolean,
  timeoutMs: number,
): Promise<{ connected: boolean; received: string; error?: string }> {
  return new Promise((resolve) => {
    const options = { host: hostOf(url), port: Number(url.port || defaultPort) };
    const secure = url.protocol === 'rediss:';
    const socket = secure ? tls.connect({ ...options, servername: options.host }) : net.connect(options);
    let received = '';
    let connected = false;
    const done = (error?: string) => {
      socket.destroy();
      resolve({ connected, received, error });
    };
    socket.setTimeout(timeoutMs, () => done('no answer in time'));
    socket.once(secure ? 'secureConnect' : 'connect', () => {
      connected = true;
      if (opening) socket.write(opening);
    });
    socket.on('data', (chunk: Buffer) => {
      received += chunk.toString();
      if (enough(received)) done();
    });
    socket.once('error', (error) => done(error.message));
    socket.once('end', () => done());
  });
}

export interface NatsProbe extends Probe {
  jetstream: boolean;
  /** The id the server announces (INFO server_id), to match it with a monitoring port. */
  serverId?: string;
}

export async function probeNats(urlText: string, timeoutMs = 2000): Promise<NatsProbe> {
  const url = new URL(urlText);
  const reply = await converse(url, 4222, undefined, (text) => text.includes('\n'), timeoutMs);
  const info = /^INFO (\{.*\})/.exec(reply.received);
  if (!info?.[1]) {
    const detail = reply.connected ? 'something answers there, but not NATS' : (reply.error ?? 'nothing answers');
    return { ok: false, answered: reply.connected, jetstream: false, detail };
  }
  const parsed = JSON.parse(info[1]) as { version?: string; jetstream?: boolean; server_id?: string };
  return {
    ok: true,
    answered: true,
    jetstream: parsed.jetstream === true,
    serverId: parsed.server_id,
    detail: `NATS ${parsed.version ?? ''}`.trim(),
  };
}

/** Whether `monitoringUrl` is the monitoring port of the server `serverId` (its /varz names the same id). */
export async function natsMonitoringMatches(monitoringUrl: string, serverId: string | undefined, timeoutMs = 2000): Promise<boolean> {
  if (!serverId) return false;
  try {
    const response = await fetch(new URL('/varz', monitoringUrl), { signal: AbortSignal.timeout(timeoutMs) });
    if (!response.ok) return false;
    const varz = (await response.json()) as { server_id?: unknown };
    return varz.server_id === serverId;
  } catch {
    return false;
  }
}

export async function probeRedis(urlText: string, timeoutMs = 2000): Promise<Probe> {
  const url = new URL(urlText);
  const password = decodeURIComponent(url.password);
  const user = decodeURIComponent(url.username);
  const auth = password ? `AUTH ${user ? `${user} ` : ''}${password}\r\n` : '';
  const expected = password ? 2 : 1;
  const reply = await converse(url, 6379, `${auth}PING\r\n`, (text) => text.split('\r\n').length > expected, timeoutMs);
  if (/\+PONG/.test(reply.received)) return { ok: true, answered: true, detail: 'Redis' };
  if (!reply.connected) return { ok: false, answered: false, detail: reply.error ?? 'nothing answers' };
  const errorLine = reply.received.split('\r\n').find((line) => line.startsWith('-'));
  return { ok: false, answered: true, detail: errorLine ? `Redis said ${errorLine.slice(1)}` : 'something answers there, but not Redis' };
}
