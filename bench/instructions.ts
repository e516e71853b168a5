/**
 * `npm run bench:instructions`: what a steady sync request costs the hook and the ceiling in instructions and
 * cache misses, counted by valgrind's callgrind instead of timed. Writes bench/INSTRUCTIONS.md (BENCH_OUT: elsewhere).
 *
 * `npm run bench` reads CPU time, which moves with the hour on a shared machine: the same build's CPU ratio at
 * 1,000 members read 0.75 to 0.87 within one day, and a change worth 2% of the hook's work drowns in that. A
 * count moves far less, whatever else the machine runs (docs/performance.md, "Counted, not timed", says how
 * much), so a change is judged by its effect rather than by the hour it was timed in. The count does not replace
 * the timing: an instruction whose code or data is not in the cache costs many that are, so the misses of a
 * simulated cache are counted too (they suggest why the hook's share of CPU time at 10 members is larger than its
 * share of instructions); and callgrind counts the process's own instructions, not the kernel's work for it.
 *
 * Needs valgrind (Debian: `apt-get install valgrind`). Valgrind runs a program some 50 times slower, and V8
 * optimises a function after so many calls, not after so much time: so each server warms up on a fixed number of
 * requests with the counting off, then counts a fixed number. Both servers run at once, in V8's `--predictable`
 * mode (everything on the main thread, no timing heuristics: without it, runs at 10 members differed by 2%).
 * It counts 10 members unless told (`-- --members 10,1000`), about 2 minutes. With `-- --functions` it also says
 * which functions the instructions went to, in both servers, V8's compiled JavaScript named by the map of code
 * addresses that `--perf-basic-prof` has it write. At 1,000 members what the
 * collector does for a request moves the count from run to run about as much as the hour moves CPU time; 5,000 is
 * not offered: under valgrind a request takes seconds, and after the 150 requests of warm-up that fit in ten
 * minutes the hook was still being optimised (8 million instructions of compiler a request).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, userInfo } from 'node:os';
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { CACHE, answers, buildCeiling, writeResponses } from './ceiling.js';
import { HOOK_MAIN, OUT, loadSync } from './dist.js';
import { BODY_LIMIT, freePort, hookEnv, loadSample, startHook, startServer, type ServerProcess } from './http.js';
import { BODIES_PER_CASE, benchCase } from './requests.js';

const CONNECTIONS = 5;
/** The pool sizes counted unless --members says otherwise. */
const DEFAULT_SIZES = [10];
/**
 * Requests to warm up on, and to count, per pool size. At 10 members 2,000 warm-up requests left V8's
 * optimising compiler a fifth of the counted instructions (functions called once a request were still being
 * optimised); after 8,000, runs still spread by 3%, after 20,000 by under 1%.
 */
const REQUESTS: Record<number, { warmup: number; counted: number }> = {
  10: { warmup: 20000, counted: 1000 },
  1000: { warmup: 600, counted: 100 },
};
/** A request under valgrind at 1,000 members takes a third of a second, and queues behind four others. */
const TIMEOUT_SECONDS = 120;
const NODE_FLAGS = ['--predictable'];
/** V8 writes `/tmp/perf-PID.map`, the address, size and name of each piece of code it compiles: callgrind knows them only by address. */
const FUNCTION_NAMES_FLAG = '--perf-basic-prof';
/**
 * The flag also has V8 write its own log, `isolate-ADDRESS-PID-v8.log` in the working directory (the repository
 * when run by npm), one more with each run: kept instead in a temporary file the system removes unseen.
 */
const V8_LOG_UNKEPT = ['--no-logfile-per-isolate', '--logfile=+'];
/** How many functions `--functions` lists for each size: those whose counts differ the most between the servers. */
const FUNCTIONS_LISTED = { more: 25, fewer: 8 };
/** Where V8 writes the perf map of a process. */
const perfMapOf = (pid: number) => `/tmp/perf-${pid}.map`;

interface CountOptions {
  /** Name each function's instructions too (`--functions`). */
  functions: boolean;
}
/**
 * TurboFan, V8's optimising compiler. Under valgrind it goes on optimising at a low rate long after a timed run
 * has settled, in both servers: its instructions are reported apart.
 */
const COMPILER = /v8::internal::compiler::/;

const ROOT = new URL('../', import.meta.url);
/** Where callgrind writes its files. */
const DUMPS = new URL('callgrind/', CACHE);

/** The events callgrind counts with its cache simulation, in its order. */
const EVENTS = ['Ir', 'Dr', 'Dw', 'I1mr', 'D1mr', 'D1mw', 'ILmr', 'DLmr', 'DLmw'] as const;
type Counts = Record<(typeof EVENTS)[number], number>;

interface Count {
  /** Per request: every event over the whole process, and the instructions of the optimising compiler among them. */
  all: Counts;
  compilerIr: number;
  /** With --functions: per request, each function's own instructions by name, and the code's that its name is not sure of. */
  functions?: FunctionCounts;
}

interface FunctionCounts {
  byName: Map<string, number>;
  /** Instructions of compiled code at an address the perf map gives two pieces of code (V8 reused it), or none. */
  unsure: number;
}

interface SizeResult {
  members: number;
  warmup: number;
  counted: number;
  hook: Count;
  ceiling: Count;
}

function required(tool: string): void {
  try {
    execFileSync('which', [tool], { stdio: 'ignore' });
  } catch {
    process.stderr.write(`bench:instructions needs ${tool} (Debian: apt-get install valgrind)\n`);
    process.exit(2);
  }
}

/**
 * valgrind's gdb server names its pipes after the user (LOGNAME, else USER) and HOST, and callgrind_control looks
 * for them under its own: both get the same. The hook's environment sets HOST (where it listens); the ceiling
 * ignores it.
 */
const VGDB_ENV = { USER: userInfo().username, HOST: '127.0.0.1' };

async function underCallgrind(
  name: string,
  main: string,
  env: Record<string, string>,
  port: number,
  options: CountOptions,
): Promise<{ server: ServerProcess; out: string }> {
  const out = fileURLToPath(new URL(`${name}.out`, DUMPS));
  for (const file of [out, `${out}.1`]) rmSync(file, { force: true });
  const nodeFlags = options.functions ? [...NODE_FLAGS, FUNCTION_NAMES_FLAG, ...V8_LOG_UNKEPT] : NODE_FLAGS;
  const args = ['--tool=callgrind', '--instr-atstart=no', '--cache-sim=yes', `--callgrind-out-file=${out}`, `--log-file=${out}.log`, process.execPath, ...nodeFlags, main];
  const server = await startServer(name, args, { ...env, ...VGDB_ENV }, port, { command: 'valgrind', listenTimeoutMs: 180_000 });
  return { server, out };
}

/** Runs callgrind_control on `server`; it exits 0 even when it found no callgrind there, so its answer is read. */
function control(server: ServerProcess, ...args: string[]): void {
  const answer = execFileSync('callgrind_control', [...args, String(server.pid)], {
    env: { ...process.env, ...VGDB_ENV },
    encoding: 'utf8',
    // Its progress lines ("sending command ...") go to stderr: kept out of the output.
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (!/^\s*OK\.?$/m.test(answer)) throw new Error(`callgrind_control ${args.join(' ')} on ${server.name}: ${answer.trim()}`);
}

/** `amount` responses from `server`, 5 connections cycling through the bodies; throws on any error. */
async function drive(server: ServerProcess, bodies: string[], amount: number): Promise<void> {
  const { requests, errors } = await loadSample({ server, bodies, connections: CONNECTIONS, amount, timeoutSeconds: TIMEOUT_SECONDS });
  if (errors > 0 || requests !== amount) throw new Error(`${server.name}: ${requests} of ${amount} answered, ${errors} errors`);
}

/** `amount` responses from `server`, counted from the first request to the last; the counts are dumped to part 1. */
async function counted(server: ServerProcess, bodies: string[], amount: number): Promise<void> {
  control(server, '--instr=on');
  await drive(server, bodies, amount);
  control(server, '--instr=off');
  control(server, '--dump');
}

/**
 * Each function's own instructions in a dump, by callgrind's name for it (`file:function`), its levels of
 * recursion (`name'2`) added up. Code V8 compiled has no symbol: callgrind names it by address (`???:0x…`).
 * Checked against the dump's total, so that no line the parse misses goes uncounted.
 */
function ownInstructions(file: string, total: number): Map<string, number> {
  const annotated = execFileSync('callgrind_annotate', ['--show=Ir', '--threshold=100', '--auto=no', file], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  const costs = new Map<string, number>();
  let sum = 0;
  for (const line of annotated.split('\n')) {
    // `  40,011,000 ( 2.73%)  ???:0x000000000d0d1ec0'2 [???]`; a function's code from a second source file
    // comes without its object file.
    const match = /^\s*([\d,]+) \(\s*[\d.]+%\)\s+(.+?)(?:'\d+)?(?: \[[^\]]*\])?$/.exec(line);
    if (!match || match[2] === 'PROGRAM TOTALS') continue;
    const ir = Number(match[1]!.replace(/,/g, ''));
    costs.set(match[2]!, (costs.get(match[2]!) ?? 0) + ir);
    sum += ir;
  }
  if (sum !== total) throw new Error(`${file}: callgrind_annotate's functions add up to ${sum} instructions, the dump's total is ${total}`);
  return costs;
}

/** A dump's totals (its `totals:` line) per request, the optimising compiler's instructions among them, and with a perf map each function's. */
function readCount(file: string, requests: number, perfMap: string | undefined): Count {
  const dump = readFileSync(file, 'utf8');
  const events = /^events: (.*)$/m.exec(dump)?.[1]?.trim();
  if (events !== EVENTS.join(' ')) throw new Error(`${file}: events ${events}, not ${EVENTS.join(' ')}`);
  const totals = /^totals: (.*)$/m.exec(dump)?.[1]?.trim().split(' ').map(Number);
  // The format leaves trailing zeros out.
  if (!totals || totals.length > EVENTS.length || !(totals[0]! > 0)) throw new Error(`${file}: no totals, or no instructions counted`);
  const own = ownInstructions(file, totals[0]!);
  let compilerIr = 0;
  for (const [name, ir] of own) if (COMPILER.test(name)) compilerIr += ir;
  const all = Object.fromEntries(EVENTS.map((e, i) => [e, (totals[i] ?? 0) / requests])) as Counts;
  const count: Count = { all, compilerIr: compilerIr / requests };
  if (perfMap !== undefined) count.functions = byFunction(own, perfMap, requests);
  return count;
}

/**
 * Own instructions per request by function, under a short name (cppName, jsName): code V8 compiled is named
 * from the perf map, its compiled tiers together.
 */
function byFunction(own: Map<string, number>, perfMap: string, requests: number): FunctionCounts {
  const codeAt = readPerfMap(perfMap);
  const byName = new Map<string, number>();
  let unsure = 0;
  for (const [name, ir] of own) {
    const address = /^\?\?\?:0x([0-9a-f]+)$/.exec(name)?.[1];
    const code = address === undefined ? undefined : codeAt(Number.parseInt(address, 16));
    if (code !== undefined && !code.sure) unsure += ir;
    const short = address === undefined ? cppName(name) : jsName(code?.name);
    byName.set(short, (byName.get(short) ?? 0) + ir / requests);
  }
  return { byName, unsure: unsure / requests };
}

/**
 * The code at an address, from V8's perf map (`ADDRESS SIZE NAME`, hexadecimal, a line per piece of code
 * compiled). V8 reuses the addresses of code it has thrown away: the newest piece that covers an address is
 * taken, but where an older one covers it too, the counted requests may have run either (not `sure`).
 */
function readPerfMap(file: string): (address: number) => { name: string; sure: boolean } | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new Error(`${file}: no perf map, which node writes with ${FUNCTION_NAMES_FLAG} (${(error as Error).message})`);
  }
  const pieces = text.split('\n').flatMap((line) => {
    const match = /^([0-9a-f]+) ([0-9a-f]+) (.*)$/.exec(line);
    return match ? [{ start: Number.parseInt(match[1]!, 16), size: Number.parseInt(match[2]!, 16), name: match[3]! }] : [];
  });
  return (address) => {
    const covering = pieces.filter((p) => p.start <= address && address < p.start + p.size);
    const newest = covering.at(-1);
    return newest && { name: newest.name, sure: covering.length === 1 };
  };
}

/**
 * `JS:*walk file:///…/dist/hook.mjs:58096:14` → `JS walk hook.mjs:58096` (a module's file name alone, Node's own
 * as Node names them); a `RegExp:…` as it is. A name may hold spaces (`get href`), a location does not.
 */
function jsName(name: string | undefined): string {
  if (name === undefined) return 'code V8 compiled, not in its perf map';
  const js = /^JS:[*^~+]?(.*) (\S*):(\d+):\d+$/.exec(name);
  if (!js) return name;
  const [, fn, where, line] = js as unknown as [string, string, string, string];
  // A module's path (ESM as a URL, CommonJS as a path) to its file name; `node:events` stays.
  const file = where.startsWith('file:') || where.startsWith('/') ? where.slice(where.lastIndexOf('/') + 1) : where;
  return `JS ${fn || '(anonymous)'} ${file || '(generated)'}:${line}`;
}

/**
 * A C++ function without its file, return type and parameters, its template arguments kept (they tell the JSON
 * parser's one-byte code from its two-byte code): `???:v8::internal::Handle<…> v8::internal::Factory::
 * InternalizeString<…>(…)` → `v8::internal::Factory::InternalizeString<…>`. A name with an `operator` in it
 * keeps all but its file and parameters (its `<`, `(` or `()` would be misread).
 */
function cppName(name: string): string {
  // callgrind's `file:function`: the file goes (a function's own colons come in pairs).
  const fn = withoutParameters(name.replace(/^[^:]*:(?!:)/, ''));
  if (fn.includes('operator')) return fn;
  // `non-virtual thunk to X` is not X itself: the words stay.
  const thunk = /^(?:non-)?virtual thunk to /.exec(fn)?.[0] ?? '';
  const rest = fn.slice(thunk.length);
  // The return type ends at the last space outside brackets (`(anonymous namespace)` and `{lambda(…)#1}` hold spaces).
  let depth = 0;
  let start = 0;
  for (let i = 0; i < rest.length; i++) {
    const c = rest[i];
    if (c === '<' || c === '(' || c === '{') depth++;
    else if (c === '>' || c === ')' || c === '}') depth--;
    else if (c === ' ' && depth === 0) start = i + 1;
  }
  return `${thunk}${rest.slice(start)}`;
}

/** A C++ signature without its last parenthesised list and what follows it (` const`, ` [clone .part.0]`). */
function withoutParameters(fn: string): string {
  const end = fn.lastIndexOf(')');
  if (end < 0) return fn;
  let depth = 0;
  for (let i = end; i >= 0; i--) {
    if (fn[i] === ')') depth++;
    // A name that is all parentheses (`(below main)`) stays.
    else if (fn[i] === '(' && --depth === 0) return i > 0 ? fn.slice(0, i) : fn;
  }
  return fn;
}

async function measureSize(sync: Awaited<ReturnType<typeof loadSync>>, members: number, ceilingMain: string, options: CountOptions): Promise<SizeResult> {
  const { warmup, counted: count } = REQUESTS[members]!;
  const steady = benchCase(sync, members, 'steady');
  const bodies = steady.bodies.map((b) => b.text);

  // The ceiling answers what the hook answers: asked once, of a hook run at full speed.
  const plain = await startHook('hook', HOOK_MAIN, await freePort());
  const responses = await answers(plain, steady).finally(() => plain.stop());

  const hookPort = await freePort();
  const ceilingPort = await freePort();
  const started = await Promise.allSettled([
    underCallgrind(`hook-${members}`, HOOK_MAIN, hookEnv(hookPort), hookPort, options),
    underCallgrind(
      `ceiling-${members}`,
      ceilingMain,
      { PORT: String(ceilingPort), BODY_LIMIT: String(BODY_LIMIT), RESPONSES: writeResponses(responses, `responses-${members}.json`) },
      ceilingPort,
      options,
    ),
  ]);
  const servers = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  try {
    // SIGTERM: both servers exit on it, and valgrind then removes its pipes from /tmp.
    const stopAll = () => Promise.all(servers.map(({ server }) => server.stop('SIGTERM')));
    const failed = started.find((s) => s.status === 'rejected');
    if (failed) {
      await stopAll();
      throw failed.reason;
    }
    const [hook, ceiling] = servers as [(typeof servers)[0], (typeof servers)[0]];
    try {
      log(`${members} members: ${warmup} requests each to warm up`);
      await Promise.all([drive(hook.server, bodies, warmup), drive(ceiling.server, bodies, warmup)]);
      log(`${members} members: ${count} requests each, counted`);
      await Promise.all([counted(hook.server, bodies, count), counted(ceiling.server, bodies, count)]);
    } finally {
      await stopAll();
    }
    const read = ({ server, out }: (typeof servers)[0]) => readCount(`${out}.1`, count, options.functions ? perfMapOf(server.pid) : undefined);
    return { members, warmup, counted: count, hook: read(hook), ceiling: read(ceiling) };
  } finally {
    // The maps node writes with --perf-basic-prof, a few MB each, also when a server failed.
    if (options.functions) for (const { server } of servers) rmSync(perfMapOf(server.pid), { force: true });
  }
}

const log = (line: string) => process.stderr.write(`${line}\n`);
const thousands = (n: number) => Math.round(n / 1000).toLocaleString('en-US');
const ratio = (ceiling: number, hook: number) => (ceiling / hook).toFixed(3);

function report(results: SizeResult[], startedAt: Date, seconds: number): string {
  const valgrind = execFileSync('valgrind', ['--version'], { encoding: 'utf8' }).trim();
  const outside = (c: Count) => c.all.Ir - c.compilerIr;
  const rows = results.map((r) => {
    const { hook: h, ceiling: c } = r;
    const misses = (x: Count) => {
      const data = x.all.D1mr + x.all.D1mw;
      return `${(x.all.I1mr / 1000).toFixed(1)} / ${data < 100_000 ? (data / 1000).toFixed(1) : thousands(data)}`;
    };
    return `| ${r.members.toLocaleString('en-US')} | ${r.warmup} + ${r.counted} | ${thousands(h.all.Ir)} | ${thousands(c.all.Ir)} | ${ratio(c.all.Ir, h.all.Ir)} | ${thousands(h.compilerIr)} / ${thousands(c.compilerIr)} | ${thousands(outside(h))} | ${thousands(outside(c))} | **${ratio(outside(c), outside(h))}** | ${misses(h)} | ${misses(c)} |`;
  });
  return [
    '# Instructions a request',
    '',
    `Output of \`npm run bench:instructions\` (${startedAt.toISOString().replace(/\.\d+Z$/, 'Z')}, ${Math.round(seconds)} s): the hook (\`node ${relative(fileURLToPath(ROOT), HOOK_MAIN)}\`) and the ceiling of \`npm run bench\`, each under valgrind's callgrind with its cache simulation and in V8's \`--predictable\` mode, given the steady sync bodies of \`npm run bench\` (${BODIES_PER_CASE} proxies in rotation, ${CONNECTIONS} connections); counted over a fixed number of requests after a fixed number to warm up, the whole process (in that mode the collector and the compiler work on its main thread). Thousands a request.`,
    '',
    `Machine: ${cpus().length} cores (${cpus()[0]?.model ?? 'unknown'}), Node ${process.version}, ${valgrind}. Misses are of valgrind's simulation of this machine's first-level caches, not the hardware's counters (this VM exposes none); its last level, which the VM reports as 320 MB, is not simulated faithfully and not given.`,
    '',
    '| members | requests (warm-up + counted) | hook instructions | ceiling instructions | ratio | of them the optimising compiler (hook / ceiling) | hook, without it | ceiling, without it | ratio without it | hook misses: L1 instructions / L1 data | ceiling misses |',
    '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...rows,
    '',
    'Ratios are the ceiling\'s count over the hook\'s, as `npm run bench` gives its CPU ratios. Under valgrind V8 goes on optimising functions at a low rate long after a timed run has settled, in both servers, which is why its compiler\'s instructions are also given apart. How far two runs of one build agree: docs/performance.md, "Counted, not timed".',
    '',
    ...results.flatMap(functionsReport),
  ].join('\n');
}

/** With --functions: the functions whose own instructions differ the most between the hook and the ceiling. */
function functionsReport({ members, hook: { functions: h }, ceiling: { functions: c } }: SizeResult): string[] {
  if (!h || !c) return [];
  const names = new Set([...h.byName.keys(), ...c.byName.keys()]);
  // The optimising compiler's functions are left out: under valgrind it works on long after the warm-up (the totals give it apart).
  const rows = [...names]
    .filter((name) => !COMPILER.test(name))
    .map((name) => ({ name, hook: h.byName.get(name) ?? 0, ceiling: c.byName.get(name) ?? 0 }))
    .map((f) => ({ ...f, more: f.hook - f.ceiling }))
    .sort((a, b) => b.more - a.more);
  const { more, fewer } = FUNCTIONS_LISTED;
  const listed = [...rows.slice(0, more), ...rows.slice(Math.max(more, rows.length - fewer)).filter((f) => f.more < 0)];
  // Thousands, one decimal; not "-0.0".
  const k = (n: number) => (Math.abs(n) < 50 ? 0 : n / 1000).toFixed(1);
  // HTML rather than backticks: a name may hold a backtick, a template's `<…>` would read as a tag, and a `|` (in a
  // regular expression's source) would end the cell.
  const cell = (name: string) => {
    const shown = name.length > 120 ? `${name.slice(0, 119)}…` : name;
    return `<code>${shown.replace(/[&<>|]/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '|': '&#124;' })[ch]!)}</code>`;
  };
  const all = (x: FunctionCounts) => k([...x.byName.values()].reduce((a, b) => a + b, 0));
  return [
    `## Where they go, ${members.toLocaleString('en-US')} members`,
    '',
    `Each function's own instructions, thousands a request, in the run above (with \`${FUNCTION_NAMES_FLAG}\`, which moves the counts outside the optimising compiler by about 1%): the ${more} functions the hook spends the most on beyond the ceiling, then the ${fewer} it spends the least on, V8's optimising compiler left out. Own instructions leave out those of the functions called, but for what V8 inlined into a compiled function. \`JS\` is JavaScript V8 compiled, its tiers together (what the interpreter runs counts to its \`Builtins_\` handlers), named as V8 names it (a bundler's rename included, such as \`add2\`), with its file (\`hook.mjs\`: the hook's bundle; \`ceiling-server.mjs\` and Fastify's own files under \`node_modules\`: the ceiling, so Fastify's functions show under two names; \`(generated)\`: code built at run time, such as TypeBox's compiled checks) and line. C++ functions go without their return type and parameters.`,
    '',
    '| function | hook | ceiling | hook - ceiling |',
    '| --- | ---: | ---: | ---: |',
    ...listed.map((f) => `| ${cell(f.name)} | ${k(f.hook)} | ${k(f.ceiling)} | ${k(f.more)} |`),
    '',
    `All ${names.size.toLocaleString('en-US')} names: hook ${all(h)}, ceiling ${all(c)}; of them, compiled code at an address V8 used for more than one piece of code, named after the newest: hook ${k(h.unsure)}, ceiling ${k(c.unsure)}.`,
    '',
  ];
}

async function main(): Promise<void> {
  for (const tool of ['valgrind', 'callgrind_control', 'callgrind_annotate']) required(tool);
  const { values } = parseArgs({ options: { members: { type: 'string' }, functions: { type: 'boolean', default: false } } });
  const sizes = values.members === undefined ? DEFAULT_SIZES : values.members.split(',').map(Number);
  const unknown = sizes.filter((m) => !(m in REQUESTS));
  if (unknown.length > 0) throw new Error(`--members: ${unknown.join(', ')} is none of ${Object.keys(REQUESTS).join(', ')}`);
  if (!existsSync(HOOK_MAIN)) throw new Error(`${HOOK_MAIN} is missing: npm run build`);
  mkdirSync(DUMPS, { recursive: true });

  const startedAt = new Date();
  const started = performance.now();
  const sync = await loadSync();
  const ceilingMain = buildCeiling();
  const results: SizeResult[] = [];
  for (const members of sizes) results.push(await measureSize(sync, members, ceilingMain, { functions: values.functions }));
  const text = report(results, startedAt, (performance.now() - started) / 1000);
  mkdirSync(OUT, { recursive: true });
  writeFileSync(new URL('INSTRUCTIONS.md', OUT), text);
  process.stdout.write(text);
}

await main();
