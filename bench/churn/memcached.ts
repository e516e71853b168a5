/**
 * Real memcached servers on loopback for the churn bench: Debian's `memcached`
 * binary (found, or installed with apt-get), one process per pod, and a small
 * text-protocol client that pipelines many sets and gets per connection.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import net from 'node:net';

export const MEMCACHED_BINARY = '/usr/bin/memcached';

export interface MemcachedBinary {
  path: string;
  version: string;
  /** How the bench came by it, for the report. */
  how: 'found' | 'installed';
}

const isExecutable = (path: string): boolean => {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
};

function aptGet(args: string[]): void {
  const run = spawnSync('apt-get', args, { stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  if (run.error) throw new Error(`apt-get ${args.join(' ')}: ${run.error.message}`);
  if (run.status !== 0) throw new Error(`apt-get ${args.join(' ')} exited with ${String(run.status)}`);
}

/** `/usr/bin/memcached`, installed from Debian's package when it is not there yet. */
export function locateMemcached(log: (line: string) => void): MemcachedBinary {
  let how: MemcachedBinary['how'] = 'found';
  if (isExecutable(MEMCACHED_BINARY)) {
    log(`memcached: found ${MEMCACHED_BINARY}`);
  } else {
    if (process.getuid?.() !== 0) {
      throw new Error(`${MEMCACHED_BINARY} not found; install Debian's package first: sudo apt-get install -y memcached`);
    }
    log(`memcached: ${MEMCACHED_BINARY} not found, installing Debian's package (apt-get update; apt-get install -y memcached)`);
    aptGet(['update']);
    aptGet(['install', '-y', '--no-install-recommends', 'memcached']);
    if (!isExecutable(MEMCACHED_BINARY)) throw new Error(`apt-get installed memcached but ${MEMCACHED_BINARY} is missing`);
    how = 'installed';
    log(`memcached: installed ${MEMCACHED_BINARY}`);
  }
  const version = spawnSync(MEMCACHED_BINARY, ['-V'], { encoding: 'utf8' }).stdout.trim();
  return { path: MEMCACHED_BINARY, version, how };
}

/** A loopback port nobody listens on right now. */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * One memcached server, started empty on a fixed loopback port. Restarting it
 * (stop, then start) empties it, as a restarted pod's memcached is.
 */
export class MemcachedProcess {
  private child: ChildProcess | undefined;
  private exited: Promise<void> | undefined;

  constructor(
    readonly binary: string,
    readonly port: number,
  ) {}

  get running(): boolean {
    return this.child !== undefined;
  }

  async start(): Promise<void> {
    if (this.child) return;
    // memcached refuses to run as root without -u.
    const user = process.getuid?.() === 0 ? ['-u', 'nobody'] : [];
    const child = spawn(this.binary, ['-l', '127.0.0.1', '-p', String(this.port), '-U', '0', '-m', '64', '-t', '2', ...user], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    this.child = child;
    let exitedEarly = false;
    void this.exited.then(() => {
      exitedEarly = true;
      if (this.child === child) this.child = undefined;
    });
    for (let attempt = 0; attempt < 200; attempt++) {
      if (exitedEarly) throw new Error(`memcached on port ${this.port} exited at start: ${stderr.trim()}`);
      if (await answersVersion(this.port)) return;
      await sleep(10);
    }
    await this.stop();
    throw new Error(`memcached on port ${this.port} did not answer within 2 s: ${stderr.trim()}`);
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (!child) return;
    this.child = undefined;
    child.kill('SIGTERM');
    await this.exited;
  }
}

async function answersVersion(port: number): Promise<boolean> {
  const conn = await MemcachedConnection.open(port);
  if (!conn) return false;
  try {
    return (await conn.version()).startsWith('VERSION ');
  } finally {
    conn.close();
  }
}

/**
 * Reads what it can of one reply from `buf` at `pos`: how far it consumed
 * (whole lines and values only) and whether the reply is complete. Called
 * again with the rest when more bytes arrive.
 */
type ReplyReader = (buf: Buffer, pos: number) => { next: number; done: boolean };

interface PendingReply {
  read: ReplyReader;
  reject: (error: Error) => void;
}

const CRLF = Buffer.from('\r\n');

/** Keys per `get` command: memcached answers a multi-get in one pass. */
const KEYS_PER_GET = 100;

/**
 * A memcached text-protocol connection. Requests are written back to back
 * without waiting (pipelining); replies come back in order and are read off
 * a queue.
 */
export class MemcachedConnection {
  private buffer: Buffer = Buffer.alloc(0);
  private readonly pending: PendingReply[] = [];
  private failure: Error | undefined;

  private constructor(private readonly socket: net.Socket) {
    socket.on('data', (chunk: Buffer) => this.receive(chunk));
    socket.on('error', (error) => this.fail(error));
    socket.on('close', () => this.fail(new Error('connection closed')));
  }

  /** A connection to 127.0.0.1:port, or undefined when nothing listens there (a stopped server). */
  static open(port: number): Promise<MemcachedConnection | undefined> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host: '127.0.0.1', port, noDelay: true });
      socket.once('connect', () => {
        socket.removeAllListeners('error');
        resolve(new MemcachedConnection(socket));
      });
      socket.once('error', (error: NodeJS.ErrnoException) => {
        socket.destroy();
        if (error.code === 'ECONNREFUSED') resolve(undefined);
        else reject(error);
      });
    });
  }

  close(): void {
    this.socket.end();
  }

  version(): Promise<string> {
    return this.request('version\r\n', 1).then(([line]) => line!);
  }

  /** flush_all: every item is gone afterwards. */
  async flushAll(): Promise<void> {
    const [line] = await this.request('flush_all\r\n', 1);
    if (line !== 'OK') throw new Error(`flush_all: ${line}`);
  }

  /** Stores every entry; resolves with how many the server answered STORED. */
  async setMany(entries: ReadonlyArray<readonly [key: string, value: string]>): Promise<number> {
    if (entries.length === 0) return 0;
    const command = entries
      .map(([key, value]) => `set ${key} 0 0 ${Buffer.byteLength(value)}\r\n${value}\r\n`)
      .join('');
    const lines = await this.request(command, entries.length);
    return lines.filter((line) => line === 'STORED').length;
  }

  /** The values of the keys the server holds. */
  getMany(keys: readonly string[]): Promise<Map<string, string>> {
    const found = new Map<string, string>();
    if (keys.length === 0) return Promise.resolve(found);
    let command = '';
    let batches = 0;
    for (let i = 0; i < keys.length; i += KEYS_PER_GET) {
      command += `get ${keys.slice(i, i + KEYS_PER_GET).join(' ')}\r\n`;
      batches++;
    }
    return new Promise((resolve, reject) => {
      let ends = 0;
      const read: ReplyReader = (buf, start) => {
        let pos = start;
        while (ends < batches) {
          const eol = buf.indexOf(CRLF, pos);
          if (eol < 0) return { next: pos, done: false };
          const line = buf.toString('latin1', pos, eol);
          if (line === 'END') {
            ends++;
            pos = eol + 2;
            continue;
          }
          const value = /^VALUE (\S+) \d+ (\d+)$/.exec(line);
          if (!value) throw new Error(`get: unexpected reply "${line}"`);
          const length = Number(value[2]);
          if (buf.length < eol + 2 + length + 2) return { next: pos, done: false };
          found.set(value[1]!, buf.toString('utf8', eol + 2, eol + 2 + length));
          pos = eol + 2 + length + 2;
        }
        resolve(found);
        return { next: pos, done: true };
      };
      this.enqueue(command, { read, reject });
    });
  }

  /** Sends `command` and collects `count` one-line replies. */
  private request(command: string, count: number): Promise<string[]> {
    return new Promise((resolve, reject) => {
      const lines: string[] = [];
      const read: ReplyReader = (buf, start) => {
        let pos = start;
        while (lines.length < count) {
          const eol = buf.indexOf(CRLF, pos);
          if (eol < 0) return { next: pos, done: false };
          lines.push(buf.toString('latin1', pos, eol));
          pos = eol + 2;
        }
        resolve(lines);
        return { next: pos, done: true };
      };
      this.enqueue(command, { read, reject });
    });
  }

  private enqueue(command: string, reply: PendingReply): void {
    if (this.failure) return reply.reject(this.failure);
    this.pending.push(reply);
    this.socket.write(command);
  }

  private receive(chunk: Buffer): void {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    let pos = 0;
    while (this.pending.length > 0) {
      let progress: { next: number; done: boolean };
      try {
        progress = this.pending[0]!.read(this.buffer, pos);
      } catch (error) {
        this.fail(error as Error);
        this.socket.destroy();
        return;
      }
      pos = progress.next;
      if (!progress.done) break;
      this.pending.shift();
    }
    this.buffer = this.buffer.subarray(pos);
  }

  private fail(error: Error): void {
    this.failure ??= error;
    for (const reply of this.pending.splice(0)) reply.reject(this.failure);
  }
}
