#!/usr/bin/env node
/**
 * memcached-operator: look at mcrouter configs the way mcrouter routes them.
 *
 *   route: which servers keys go to;
 *   diff:  how much of the keyspace moves from one config to another.
 *
 * All the work is in runCli, which takes its I/O as arguments so tests can
 * call it; the last lines run it when this file is the program.
 */
import { readFileSync, realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { findMcrouterConfig } from './mcrouter/config-source.js';
import { parseConfigText } from './mcrouter/config-text.js';
import { DEFAULT_ROUTE_PREFIX, MAX_KEY_BYTES, routingKey } from './mcrouter/key.js';
import { keyspaceDiff, sampleKeys, type PoolSize } from './mcrouter/keyspace.js';
import { OPERATIONS, compileConfig, isOperation, type RouteTree } from './mcrouter/route.js';

export interface CliIo {
  stdout(text: string): void;
  stderr(text: string): void;
  /** The file's text; throws when it cannot be read. */
  readFile(path: string): string;
}

const DIFF_SAMPLE = 100_000;

const USAGE = `usage:
  memcached-operator route --config FILE [--op OPERATION] [--json] KEY...
  memcached-operator diff [--keys N] [--json] OLD NEW

route  prints, per key, the first server a request reaches, every server it is
       sent to at once (primary) and the servers tried after those (fallbacks),
       or why mcrouter refuses the key (empty, over ${MAX_KEY_BYTES} bytes, a space or a
       control character, a routing prefix other than ${DEFAULT_ROUTE_PREFIX}); flushall and
       flushre are always refused (mcrouter answers them before the route).
       A LatestRoute (replicated reads) orders replicas per mcrouter pod: the
       servers are then listed in config order, and a line says so.
       --op    the operation (default get): ${OPERATIONS.join(', ')}
diff   prints, per pool and overall, the fraction of a fixed sample of keys
       (key:0, key:1, ...) whose first get under NEW goes to a server OLD did not
       write them to (a miss there; a MissFailoverRoute then asks the next
       server, which may hold the key), averaged over
       mcrouter pods where a LatestRoute reads replicas in a per-pod order.
       A pool in one file only (renamed, added, removed) gets no share.
       --keys  the sample size (default ${DIFF_SAMPLE})

FILE, OLD and NEW are JSON (\`kubectl get -o json\`; - reads standard input): an
mcrouter config.json, a ConfigMap holding it in data["config.json"], or a hook
response or sync request whose children include that ConfigMap. A KEY is
UTF-8 text.
Exit status: 0 done, 1 a file cannot be read or routed or a key is refused,
2 bad usage.
`;

class UsageError extends Error {}

export function runCli(argv: string[], io: CliIo): number {
  try {
    const [command, ...args] = argv;
    // `route --help` asks for the usage, not for an option route lacks (after `--`, it would be a key).
    const end = args.indexOf('--');
    const options = end < 0 ? args : args.slice(0, end);
    if (options.includes('--help') || options.includes('-h')) {
      io.stdout(USAGE);
      return 0;
    }
    switch (command) {
      case 'route':
        return routeCommand(args, io);
      case 'diff':
        return diffCommand(args, io);
      case 'help':
      case '--help':
      case '-h':
        io.stdout(USAGE);
        return 0;
      case undefined:
        throw new UsageError('no command given');
      default:
        throw new UsageError(`unknown command "${command}"`);
    }
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr(`memcached-operator: ${error.message}\n\n${USAGE}`);
      return 2;
    }
    io.stderr(`memcached-operator: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
}

type ArgsConfig = NonNullable<Parameters<typeof parseArgs>[0]>;

function parse<T extends ArgsConfig>(config: T): ReturnType<typeof parseArgs<T>> {
  try {
    return parseArgs(config);
  } catch (error) {
    // parseArgs reports unknown options and missing values as TypeErrors.
    throw new UsageError((error as Error).message);
  }
}

function loadTree(path: string, io: CliIo): RouteTree {
  let text: string;
  try {
    text = io.readFile(path);
  } catch (error) {
    throw new Error(`cannot read ${path === '-' ? 'standard input' : path}: ${(error as Error).message}`);
  }
  let document: unknown;
  try {
    // Editors on Windows save JSON with a byte order mark. A config itself may have comments, as mcrouter's may.
    document = parseConfigText(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
  } catch (error) {
    throw new Error(`${path}: not JSON (${(error as Error).message})`);
  }
  try {
    return compileConfig(findMcrouterConfig(document));
  } catch (error) {
    throw new Error(`${path}: ${(error as Error).message}`);
  }
}

function routeCommand(args: string[], io: CliIo): number {
  const { values, positionals: keys } = parse({
    args,
    allowPositionals: true,
    options: {
      config: { type: 'string', short: 'c' },
      op: { type: 'string', default: 'get' },
      json: { type: 'boolean', default: false },
    },
  });
  if (values.config === undefined) throw new UsageError('route needs --config FILE');
  if (keys.length === 0) throw new UsageError('route needs at least one KEY');
  // The shell hands over bytes and Node decodes them as UTF-8: a byte that is not UTF-8 arrives as U+FFFD, and the
  // key hashed would not be the one mcrouter hashes (its bytes as sent).
  const garbled = keys.find((key) => key.includes('\uFFFD'));
  if (garbled !== undefined) {
    throw new UsageError(`key ${JSON.stringify(garbled)} holds U+FFFD: keys are taken as UTF-8 text, and the tool cannot tell a byte that was not UTF-8, or U+FFFD itself, from the other`);
  }
  const { op } = values;
  if (!isOperation(op)) throw new UsageError(`unknown operation "${op}"`);
  const tree = loadTree(values.config, io);
  const routes = keys.map((key) => ({ key, ...tree.route(key, op) }));
  const status = routes.some((r) => r.refused !== undefined) ? 1 : 0;
  if (values.json) {
    const json = routes.map(({ key, primary, fallbacks, refused, perHost }) => ({ key, op, first: primary[0] ?? null, primary, fallbacks, refused, perHost }));
    io.stdout(`${JSON.stringify(json, null, 2)}\n`);
    return status;
  }
  const list = (servers: string[]) => (servers.length > 0 ? servers.join(' ') : '(none)');
  const text = routes.map(({ key, primary, fallbacks, refused, perHost }) => {
    // JSON-quoted when it holds what a terminal would not show as it is (a line break, a control character).
    const lines = [refused === undefined ? key : JSON.stringify(key)];
    if (refused !== undefined) {
      lines.push(`  refused      mcrouter answers an error: ${refused}`);
      return lines.join('\n');
    }
    const hashed = routingKey(key);
    if (hashed !== key) lines.push(`  routing key  ${hashed}`);
    lines.push(`  first        ${primary[0] ?? '(none)'}`, `  primary      ${list(primary)}`, `  fallbacks    ${list(fallbacks)}`);
    if (perHost) lines.push('  per pod      a LatestRoute orders the replicas per mcrouter pod: listed in config order, a pod may read another first');
    return lines.join('\n');
  });
  io.stdout(`${text.join('\n\n')}\n`);
  return status;
}

function diffCommand(args: string[], io: CliIo): number {
  const { values, positionals } = parse({
    args,
    allowPositionals: true,
    options: {
      keys: { type: 'string' },
      json: { type: 'boolean', default: false },
    },
  });
  if (positionals.length !== 2) throw new UsageError('diff needs two files: OLD NEW');
  // Digits only: Number() would also read 0x10, 1e3 and ' 7 '.
  const count = values.keys === undefined ? DIFF_SAMPLE : /^[0-9]{1,8}$/.test(values.keys) ? Number(values.keys) : Number.NaN;
  if (!Number.isInteger(count) || count < 1 || count > 10_000_000) {
    throw new UsageError(`--keys takes a whole number from 1 to 10000000, not "${values.keys}"`);
  }
  const [oldPath, newPath] = positionals as [string, string];
  // Standard input is read once: the second `-` would read nothing and fail as "not JSON".
  if (oldPath === '-' && newPath === '-') throw new UsageError('diff reads standard input (-) once: give OLD or NEW as a file');
  const diff = keyspaceDiff(loadTree(oldPath, io), loadTree(newPath, io), sampleKeys(count));
  if (values.json) {
    io.stdout(`${JSON.stringify({ keys: count, ...diff }, null, 2)}\n`);
    return 0;
  }
  const percent = (fraction: number) => `${(fraction * 100).toFixed(2)}%`;
  const size = (s: PoolSize | undefined) =>
    s === undefined ? 'absent' : `${s.servers} server${s.servers === 1 ? '' : 's'}${s.holes ? ` (${s.holes} weight 0)` : ''}`;
  const width = Math.max(0, ...diff.pools.map((p) => p.pool.length));
  const lines = diff.pools.map((p) =>
    p.moved === null
      ? `pool ${p.pool.padEnd(width)}  replicas: each server holds every key; reads counted overall  (${size(p.before)} -> ${size(p.after)})`
      : p.before === undefined || p.after === undefined
        ? // A pool on one side only (renamed, or added or removed): its servers may still hold the keys under another name.
          `pool ${p.pool.padEnd(width)}  only in ${p.before === undefined ? 'NEW' : 'OLD'}: the keys that stay on its servers are counted overall  (${size(p.before)} -> ${size(p.after)})`
        : `pool ${p.pool.padEnd(width)}  ${percent(p.moved).padStart(7)} of keys move  (${size(p.before)} -> ${size(p.after)})`,
  );
  lines.push(`overall ${percent(diff.moved)} of ${count} sample keys move: their first get goes to a server the old config did not write them to`);
  io.stdout(`${lines.join('\n')}\n`);
  return 0;
}

function isProgram(): boolean {
  const script = process.argv[1];
  if (script === undefined) return false;
  try {
    // npm runs bins through a symlink.
    return realpathSync(script) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isProgram()) {
  // A reader that stops early (`| head`) closes the pipe: that is the end of the output, not a failure.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
    process.exit(process.exitCode ?? 0);
  });
  process.exitCode = runCli(process.argv.slice(2), {
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
    readFile: (path) => readFileSync(path === '-' ? 0 : path, 'utf8'),
  });
}
