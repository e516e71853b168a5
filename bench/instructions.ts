/**
 * `npm run bench:instructions`: what a steady sync request costs the hook and the ceiling in instructions and
 * cache misses, counted by valgrind's callgrind instead of timed. Writes bench/INSTRUCTIONS.md.
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
 * It counts 10 members unless told (`-- --members 10,1000`), about 2 minutes. At 1,000 members what the
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
import { HOOK_MAIN, loadSync } from './dist.js';
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

async function underCallgrind(name: string, main: string, env: Record<string, string>, port: number): Promise<{ server: ServerProcess; out: string }> {
  const out = fileURLToPath(new URL(`${name}.out`, DUMPS));
  for (const file of [out, `${out}.1`]) rmSync(file, { force: true });
  const args = ['--tool=callgrind', '--instr-atstart=no', '--cache-sim=yes', `--callgrind-out-file=${out}`, `--log-file=${out}.log`, process.execPath, ...NODE_FLAGS, main];
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

/** A dump's totals (its `totals:` line), and the optimising compiler's instructions, per request. */
function readCount(file: string, requests: number): Count {
  const dump = readFileSync(file, 'utf8');
  const events = /^events: (.*)$/m.exec(dump)?.[1]?.trim();
  if (events !== EVENTS.join(' ')) throw new Error(`${file}: events ${events}, not ${EVENTS.join(' ')}`);
  const totals = /^totals: (.*)$/m.exec(dump)?.[1]?.trim().split(' ').map(Number);
  // The format leaves trailing zeros out.
  if (!totals || totals.length > EVENTS.length || !(totals[0]! > 0)) throw new Error(`${file}: no totals, or no instructions counted`);
  // Each function's own instructions, its first column; a function shows once per call context (`name'2`).
  const annotated = execFileSync('callgrind_annotate', ['--threshold=100', '--auto=no', file], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  let compilerIr = 0;
  for (const line of annotated.split('\n')) if (COMPILER.test(line)) compilerIr += Number(/^\s*([\d,]+)/.exec(line)?.[1]?.replace(/,/g, '') ?? 0);
  const all = Object.fromEntries(EVENTS.map((e, i) => [e, (totals[i] ?? 0) / requests])) as Counts;
  return { all, compilerIr: compilerIr / requests };
}

async function measureSize(sync: Awaited<ReturnType<typeof loadSync>>, members: number, ceilingMain: string): Promise<SizeResult> {
  const { warmup, counted: count } = REQUESTS[members]!;
  const steady = benchCase(sync, members, 'steady');
  const bodies = steady.bodies.map((b) => b.text);

  // The ceiling answers what the hook answers: asked once, of a hook run at full speed.
  const plain = await startHook('hook', HOOK_MAIN, await freePort());
  const responses = await answers(plain, steady).finally(() => plain.stop());

  const hookPort = await freePort();
  const ceilingPort = await freePort();
  const started = await Promise.allSettled([
    underCallgrind(`hook-${members}`, HOOK_MAIN, hookEnv(hookPort), hookPort),
    underCallgrind(
      `ceiling-${members}`,
      ceilingMain,
      { PORT: String(ceilingPort), BODY_LIMIT: String(BODY_LIMIT), RESPONSES: writeResponses(responses, `responses-${members}.json`) },
      ceilingPort,
    ),
  ]);
  const servers = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
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
  return { members, warmup, counted: count, hook: readCount(`${hook.out}.1`, count), ceiling: readCount(`${ceiling.out}.1`, count) };
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
  ].join('\n');
}

async function main(): Promise<void> {
  for (const tool of ['valgrind', 'callgrind_control', 'callgrind_annotate']) required(tool);
  const { values } = parseArgs({ options: { members: { type: 'string' } } });
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
  for (const members of sizes) results.push(await measureSize(sync, members, ceilingMain));
  const text = report(results, startedAt, (performance.now() - started) / 1000);
  writeFileSync(new URL('INSTRUCTIONS.md', import.meta.url), text);
  process.stdout.write(text);
}

await main();
