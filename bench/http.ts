/**
 * Servers under load: starting them as `node` processes (under valgrind for bench/instructions.ts), loading them
 * with autocannon, and reading what each request cost the server from
 * /proc/PID/stat (CPU time is steadier than req/s on a shared machine, but
 * not steady: this VM reports no steal time, so a spell in which the
 * hypervisor runs a neighbour on the server's core is billed to the server).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import autocannon from 'autocannon';
import { DEFAULT_SETTINGS } from '../src/settings.js';

/** Clock ticks per second: the unit of utime and stime in /proc/PID/stat. */
export const CLOCK_TICKS = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());

/** User + system CPU seconds the process has used so far. */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) may hold spaces: fields are counted after its closing parenthesis.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  return (utime + stime) / CLOCK_TICKS;
}

export const mb = (bytes: number) => bytes / (1024 * 1024);

/** The hook's own default, for the ceiling too: room for the 5,000-member bodies. */
export const BODY_LIMIT = DEFAULT_SETTINGS.bodyLimit;

/** Resident set size in bytes. */
export function rssBytes(pid: number): number {
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!match) throw new Error(`no VmRSS for process ${pid}`);
  return Number(match[1]) * 1024;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

const accepts = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });

/** How long a server stopped by a signal other than SIGKILL has to exit (valgrind writes its files, then exits). */
const STOP_GRACE_MS = 30_000;

export interface ServerProcess {
  name: string;
  pid: number;
  url: string;
  /** Set when the process exited on its own: every later measurement of it would be void. */
  died?: string;
  /** Ends the process (SIGKILL unless told; any other signal gets STOP_GRACE_MS before the SIGKILL) and waits for it. */
  stop(signal?: NodeJS.Signals): Promise<void>;
}

export interface StartOptions {
  /** What runs `args`: node itself unless given (bench/instructions.ts runs node under valgrind). */
  command?: string;
  /** How long it may take to listen. */
  listenTimeoutMs?: number;
}

/** Starts `node args...` (or `command args...`) with env and waits until it accepts connections on `port`. */
export async function startServer(
  name: string,
  args: string[],
  env: Record<string, string>,
  port: number,
  { command = process.execPath, listenTimeoutMs = 20_000 }: StartOptions = {},
): Promise<ServerProcess> {
  const child: ChildProcess = spawn(command, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'inherit', 'inherit'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let early: string | undefined;
  const exitedEarly = (code: number | null, signal: string | null) => (early = `${name} exited (${code ?? signal}) before accepting connections`);
  child.once('exit', exitedEarly);
  const deadline = Date.now() + listenTimeoutMs;
  while (!(await accepts(port))) {
    if (early) throw new Error(early);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`${name} did not listen on ${port} within ${listenTimeoutMs / 1000} s`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  child.off('exit', exitedEarly);
  let stopping = false;
  const server: ServerProcess = {
    name,
    pid: child.pid!,
    url: `http://127.0.0.1:${port}`,
    async stop(signal = 'SIGKILL') {
      stopping = true;
      child.kill(signal);
      const kill = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
      await exited;
      clearTimeout(kill);
    },
  };
  child.once('exit', (code, signal) => {
    if (stopping) return;
    server.died = `${name} (pid ${child.pid}) exited with ${code ?? signal} while under load`;
    process.stderr.write(`${server.died}\n`);
  });
  return server;
}

/** The hook's environment in a benchmark: on loopback, logging only warnings, with no drain delay on stop. */
export const hookEnv = (port: number): Record<string, string> => ({
  PORT: String(port),
  HOST: '127.0.0.1',
  LOG_LEVEL: 'warn',
  BODY_LIMIT: String(BODY_LIMIT),
  SHUTDOWN_DELAY_MS: '0',
});

/** The hook at `main` (a build's hook.mjs), as hookEnv sets it up. */
export const startHook = (name: string, main: string, port: number): Promise<ServerProcess> => startServer(name, [main], hookEnv(port), port);

export interface LoadResult {
  /** Responses received. */
  requests: number;
  seconds: number;
  requestsPerSecond: number;
  /** Server CPU seconds per response. */
  cpuPerRequest: number;
  /** Milliseconds, of the 2xx responses (nearest rank). */
  latencyP50: number;
  latencyP99: number;
  /** Connection errors, timeouts and non-2xx responses. */
  errors: number;
}

export interface LoadOptions {
  server: ServerProcess;
  bodies: string[];
  connections: number;
  /** Run for this long, or (when `amount` is set) until that many responses came back. */
  seconds?: number;
  amount?: number;
  /** A response slower than this is an error (default: Metacontroller's hook timeout, 10 s). */
  timeoutSeconds?: number;
}

/**
 * What one load measured, kept whole so that a round cut in slices (alternating with the other server's)
 * sums up as one load: `summarizeLoads`.
 */
export interface LoadSample {
  /** Responses received (2xx). */
  requests: number;
  seconds: number;
  /** Server CPU seconds over the load. */
  cpuSeconds: number;
  /** Each 2xx response's latency, milliseconds. */
  latenciesMs: number[];
  errors: number;
}

/**
 * Loads `server` with POST /sync, each connection cycling through `bodies`.
 * With `amount`, exactly that many responses are counted, so none of the
 * CPU the server spent is on a request left in flight at the end.
 */
export async function loadSample({ server, bodies, connections, seconds, amount, timeoutSeconds = 10 }: LoadOptions): Promise<LoadSample> {
  const cpuBefore = cpuSeconds(server.pid);
  const started = performance.now();
  let last = started;
  const latenciesMs: number[] = [];
  const instance = autocannon({
    url: `${server.url}/sync`,
    connections,
    ...(amount !== undefined ? { amount } : { duration: seconds ?? 5 }),
    timeout: timeoutSeconds,
    requests: bodies.map((body) => ({ method: 'POST' as const, path: '/sync', headers: { 'content-type': 'application/json' }, body })),
    // A server that stopped answering would otherwise keep a fixed-amount run going forever.
    bailout: 50,
    // autocannon ends a run at its next sample tick: every 1 s by default, which left the slices of a round
    // idle half a second each on average (the CPU and the seconds are counted to the last response anyway).
    sampleInt: 100,
  });
  // Latencies as autocannon takes them (its own histogram counts 2xx only), kept raw to be pooled across slices.
  instance.on('response', (_client: unknown, statusCode: number, _bytes: number, responseTime: number) => {
    last = performance.now();
    if (statusCode >= 200 && statusCode < 300) latenciesMs.push(responseTime);
  });
  const result = await instance;
  if (server.died) throw new Error(server.died);
  return {
    requests: result['2xx'],
    seconds: (last - started) / 1000,
    cpuSeconds: cpuSeconds(server.pid) - cpuBefore,
    latenciesMs,
    errors: result.errors + result.timeouts + result.non2xx,
  };
}

/** The nearest-rank percentile of sorted values. */
const percentile = (sorted: readonly number[], p: number) => (sorted.length === 0 ? 0 : sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)]!);

/**
 * Loads of one server summed up as one: the slices of a round. `cpu`, when given, is the server's CPU seconds
 * over the whole round (see run.ts) instead of the sum of its slices'.
 */
export function summarizeLoads(samples: readonly LoadSample[], cpu = samples.reduce((a, s) => a + s.cpuSeconds, 0)): LoadResult {
  const requests = samples.reduce((a, s) => a + s.requests, 0);
  const seconds = samples.reduce((a, s) => a + s.seconds, 0);
  const latencies = samples.flatMap((s) => s.latenciesMs).sort((a, b) => a - b);
  return {
    requests,
    seconds,
    requestsPerSecond: requests / seconds,
    cpuPerRequest: cpu / Math.max(requests, 1),
    latencyP50: percentile(latencies, 50),
    latencyP99: percentile(latencies, 99),
    errors: samples.reduce((a, s) => a + s.errors, 0),
  };
}

export async function load(options: LoadOptions): Promise<LoadResult> {
  return summarizeLoads([await loadSample(options)]);
}
