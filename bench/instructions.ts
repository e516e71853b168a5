/**
 * `npm run bench:instructions`: what a steady sync request costs the hook and the ceiling in instructions and
 * cache misses, counted by valgrind's callgrind instead of timed. Writes bench/INSTRUCTIONS.md.
 *
 * `npm run bench` reads CPU time, which moves with the hour on a shared machine: the same build's CPU ratio at
 * 1,000 members read 0.75 to 0.85 within one day, and a change worth 2% of the hook's work drowns in that. A
 * count hardly moves, whatever else the machine runs: three runs of one build agreed within 0.6% at 10 members
 * and within 5% at 1,000, where what the collector does for a request varies from run to run. So a change is judged
 * by its effect rather than by the hour it was timed in. The count does not replace the timing: an instruction
 * whose code or data is not in the cache costs many that are, so the misses of a simulated cache are counted too
 * (they explain why the hook's share of CPU time is larger than its share of instructions at 10 members).
 *
 * Needs valgrind (Debian: `apt-get install valgrind`). Valgrind runs a program some 50 times slower, and V8
 * optimises a function after so many calls, not after so much time: so each server warms up on a fixed number of
 * requests with the counting off, then counts a fixed number. Both servers run at once, in V8's `--predictable`
 * mode (one thread, no timing heuristics: without it two runs at 10 members differed by 2%). 5,000 members is
 * left out: under valgrind a request takes seconds, and after the 150 requests of warm-up that fit in ten
 * minutes the hook was still being optimised (8 million instructions of compiler a request). About 5 minutes;
 * `-- --members 10` counts one size.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, userInfo } from 'node:os';
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { CACHE, answers, buildCeiling, writeResponses } from './ceiling.js';
import { HOOK_MAIN, loadSync } from './dist.js';
import { BODY_LIMIT, freePort, hookEnv, startHook, startServer, type ServerProcess } from './http.js';
import { benchCase, type BenchCase } from './requests.js';

const CONNECTIONS = 5;
/**
 * Requests to warm up on, and to count, per pool size. At 10 members 2,000 warm-up requests left V8's
 * optimising compiler a fifth of the counted instructions (functions called once a request were still being
 * optimised); after 8,000 its share was what it stays at for 25,000 and more.
 */
const REQUESTS: Record<number, { warmup: number; counted: number }> = {
  10: { warmup: 8000, counted: 1000 },
  1000: { warmup: 600, counted: 100 },
};
/** A request under valgrind at 1,000 members takes a third of a second, and queues behind four others. */
const TIMEOUT_SECONDS = 120;
const NODE_FLAGS = ['--predictable'];
/** TurboFan, V8's optimising compiler: its background work on functions still being optimised is reported apart. */
const COMPILER = /v8::internal::compiler::/;

const ROOT = new URL('../', import.meta.url);
const OUT = new URL('callgrind/', CACHE);

/** The events callgrind counts with its cache simulation, in its order. */
const EVENTS = ['Ir', 'Dr', 'Dw', 'I1mr', 'D1mr', 'D1mw', 'ILmr', 'DLmr', 'DLmw'] as const;
type Counts = Record<(typeof EVENTS)[number], number>;

interface Count {
  /** Per request: every event over the whole process (all threads), and instructions of the optimising compiler. */
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
 * valgrind's gdb server names its pipes after USER and HOST; callgrind_control finds them by its own, so both
 * get the same (HOST is also where the hook listens; the ceiling ignores it).
 */
const VGDB_ENV = { USER: userInfo().username, HOST: '127.0.0.1' };

async function underCallgrind(name: string, main: string, env: Record<string, string>, port: number): Promise<{ server: ServerProcess; out: string }> {
  const out = fileURLToPath(new URL(`${name}.out`, OUT));
  for (const file of [out, `${out}.1`]) rmSync(file, { force: true });
  const args = ['--tool=callgrind', '--instr-atstart=no', '--cache-sim=yes', `--callgrind-out-file=${out}`, `--log-file=${out}.log`, process.execPath, ...NODE_FLAGS, main];
  const server = await startServer(name, args, { ...env, ...VGDB_ENV }, port, { command: 'valgrind', listenTimeoutMs: 180_000 });
  return { server, out };
}

const control = (server: ServerProcess, ...args: string[]) =>
  execFileSync('callgrind_control', [...args, String(server.pid)], { env: { ...process.env, ...VGDB_ENV }, stdio: 'ignore' });

/** `amount` responses from `server`, 5 connections cycling through the bodies; throws on any error. */
async function drive(server: ServerProcess, bodies: string[], amount: number): Promise<void> {
  const result = await autocannon({
    url: `${server.url}/sync`,
    connections: CONNECTIONS,
    amount,
    timeout: TIMEOUT_SECONDS,
    requests: bodies.map((body) => ({ method: 'POST' as const, path: '/sync', headers: { 'content-type': 'application/json' }, body })),
  });
  if (server.died) throw new Error(server.died);
  const errors = result.errors + result.timeouts + result.non2xx;
  if (errors > 0 || result['2xx'] !== amount) throw new Error(`${server.name}: ${result['2xx']} of ${amount} answered, ${errors} errors`);
}

/** The dump's totals, and the optimising compiler's instructions, per request. */
function readCount(file: string, requests: number): Count {
  const text = execFileSync('callgrind_annotate', ['--threshold=100', file], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  const shown = /^Events shown:\s+(.*)$/m.exec(text)?.[1]?.trim().split(/\s+/);
  if (shown?.join(' ') !== EVENTS.join(' ')) throw new Error(`${file}: events ${shown?.join(' ')}, not ${EVENTS.join(' ')}`);
  const numbers = (line: string) => [...line.matchAll(/([\d,]+) \(/g)].map((m) => Number(m[1]!.replace(/,/g, '')));
  const totalsLine = text.split('\n').find((line) => line.includes('PROGRAM TOTALS'));
  if (!totalsLine) throw new Error(`${file}: no totals`);
  const totals = numbers(totalsLine);
  let compilerIr = 0;
  for (const line of text.split('\n')) if (COMPILER.test(line)) compilerIr += numbers(line)[0] ?? 0;
  const all = Object.fromEntries(EVENTS.map((e, i) => [e, (totals[i] ?? 0) / requests])) as Counts;
  return { all, compilerIr: compilerIr / requests };
}

async function measureSize(sync: Awaited<ReturnType<typeof loadSync>>, members: number, ceilingMain: string): Promise<SizeResult> {
  const { warmup, counted } = REQUESTS[members]!;
  const benchBodies: BenchCase = benchCase(sync, members, 'steady');
  const bodies = benchBodies.bodies.map((b) => b.text);

  // The ceiling answers what the hook answers: asked once, of a hook run at full speed.
  const plain = await startHook('hook', HOOK_MAIN, await freePort());
  const responses = await answers(plain, benchBodies).finally(() => plain.stop());

  const hookPort = await freePort();
  const ceilingPort = await freePort();
  const [hook, ceiling] = await Promise.all([
    underCallgrind(`hook-${members}`, HOOK_MAIN, hookEnv(hookPort), hookPort),
    underCallgrind(
      `ceiling-${members}`,
      ceilingMain,
      { PORT: String(ceilingPort), BODY_LIMIT: String(BODY_LIMIT), RESPONSES: writeResponses(responses, `responses-${members}.json`) },
      ceilingPort,
    ),
  ]);
  try {
    log(`${members} members: ${warmup} requests each to warm up`);
    await Promise.all([drive(hook.server, bodies, warmup), drive(ceiling.server, bodies, warmup)]);
    log(`${members} members: ${counted} requests each, counted`);
    for (const { server } of [hook, ceiling]) control(server, '--instr=on');
    await Promise.all([drive(hook.server, bodies, counted), drive(ceiling.server, bodies, counted)]);
    for (const { server } of [hook, ceiling]) {
      control(server, '--instr=off');
      control(server, '--dump');
    }
  } finally {
    await Promise.all([hook.server.stop(), ceiling.server.stop()]);
  }
  // callgrind_control's dump is the run's part 1.
  return { members, warmup, counted, hook: readCount(`${hook.out}.1`, counted), ceiling: readCount(`${ceiling.out}.1`, counted) };
}

const log = (line: string) => process.stderr.write(`${line}\n`);
const thousands = (n: number) => Math.round(n / 1000).toLocaleString('en-US');
const ratio = (ceiling: number, hook: number) => (ceiling / hook).toFixed(3);

function report(results: SizeResult[], startedAt: Date, seconds: number): string {
  const valgrind = execFileSync('valgrind', ['--version'], { encoding: 'utf8' }).trim();
  const outside = (c: Count) => c.all.Ir - c.compilerIr;
  const rows = results.map((r) => {
    const { hook: h, ceiling: c } = r;
    const misses = (x: Count) => `${(x.all.I1mr / 1000).toFixed(1)} / ${(x.all.D1mr + x.all.D1mw) / 1000 < 100 ? ((x.all.D1mr + x.all.D1mw) / 1000).toFixed(1) : thousands(x.all.D1mr + x.all.D1mw)}`;
    return `| ${r.members.toLocaleString('en-US')} | ${r.warmup} + ${r.counted} | ${thousands(h.all.Ir)} | ${thousands(c.all.Ir)} | ${ratio(c.all.Ir, h.all.Ir)} | ${thousands(h.compilerIr)} / ${thousands(c.compilerIr)} | ${thousands(outside(h))} | ${thousands(outside(c))} | **${ratio(outside(c), outside(h))}** | ${misses(h)} | ${misses(c)} |`;
  });
  return [
    '# Instructions a request',
    '',
    `Output of \`npm run bench:instructions\` (${startedAt.toISOString().replace(/\.\d+Z$/, 'Z')}, ${Math.round(seconds)} s): the hook (\`node ${relative(fileURLToPath(ROOT), HOOK_MAIN)}\`) and the ceiling of \`npm run bench\`, each under valgrind's callgrind with its cache simulation and in V8's \`--predictable\` mode, given the steady sync bodies of \`npm run bench\` (8 proxies in rotation, ${CONNECTIONS} connections); counted over a fixed number of requests after a fixed number to warm up, every thread of the process (the collector's and the compiler's included). Thousands a request.`,
    '',
    `Machine: ${cpus().length} cores (${cpus()[0]?.model ?? 'unknown'}), Node ${process.version}, ${valgrind}. Misses are of valgrind's simulation of this machine's first-level caches, not the hardware's counters (this VM exposes none); its last level, which the VM reports as 320 MB, is not simulated faithfully and not given.`,
    '',
    '| members | requests (warm-up + counted) | hook instructions | ceiling instructions | ratio | of them the optimising compiler (hook / ceiling) | hook, without it | ceiling, without it | ratio without it | hook misses: L1 instructions / L1 data | ceiling misses |',
    '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...rows,
    '',
    'Ratios are the ceiling\'s count over the hook\'s, as `npm run bench` gives its CPU ratios. Under valgrind V8 goes on optimising functions at a low rate long after a timed run has settled, in both servers, which is why its compiler\'s instructions are also given apart.',
    '',
  ].join('\n');
}

async function main(): Promise<void> {
  for (const tool of ['valgrind', 'callgrind_control', 'callgrind_annotate']) required(tool);
  const { values } = parseArgs({ options: { members: { type: 'string' } } });
  const sizes = values.members === undefined ? Object.keys(REQUESTS).map(Number) : values.members.split(',').map(Number);
  const unknown = sizes.filter((m) => !(m in REQUESTS));
  if (unknown.length > 0) throw new Error(`--members: ${unknown.join(', ')} is none of ${Object.keys(REQUESTS).join(', ')}`);
  if (!existsSync(HOOK_MAIN)) throw new Error(`${HOOK_MAIN} is missing: npm run build`);
  mkdirSync(OUT, { recursive: true });

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
