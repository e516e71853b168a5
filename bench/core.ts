/**
 * The pure core alone: `sync()` against the floor any implementation pays for
 * the same objects, `JSON.parse` of the request and `JSON.stringify` of the
 * response. And how the core's time grows with the pool.
 */
import type { sync as Sync } from '../src/core/sync.js';
import { BENCH_CONTEXT, type BenchCase } from './requests.js';

export type SyncFn = typeof Sync;

/** A batch of work timed as a whole: `run()` does one unit, returns something so nothing is optimised away. */
interface Work {
  run(i: number): unknown;
}

let sink: unknown;

/**
 * CPU milliseconds this process has used: unlike the wall clock, not
 * stretched when another process takes the core. It includes V8's
 * collector and compiler threads, a cost of the work too.
 */
const cpuMs = () => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
};

/** Milliseconds per unit of `work`, over `units` units. */
function timeBatch(work: Work, units: number): number {
  const started = cpuMs();
  for (let i = 0; i < units; i++) sink = work.run(i);
  return (cpuMs() - started) / units;
}

/** Runs `work` for `ms` of CPU time, so that the optimising compiler is done with it before timing. */
function warmUp(work: Work, ms: number): void {
  const started = cpuMs();
  for (let i = 0; cpuMs() - started < ms; i++) sink = work.run(i);
}

/** How many units last about `batchMs`, from one timed unit of each of the bodies. */
function unitsFor(work: Work, bodies: number, batchMs: number): number {
  const perUnit = timeBatch(work, bodies);
  return Math.max(bodies, Math.ceil(batchMs / Math.max(perUnit, 1e-4) / bodies) * bodies);
}

export const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

export interface CoreResult {
  members: number;
  situation: string;
  /** Milliseconds per request, medians over the rounds. */
  coreMs: number;
  floorMs: number;
  parseMs: number;
  stringifyMs: number;
  /** Medians of the per-round ratios. */
  ratio: number;
  requestBytes: number;
  responseBytes: number;
}

/**
 * Times sync() and the floor in alternating batches (so that drift and GC
 * weather hit both) over the case's bodies in turn, `rounds` times.
 */
export function coreVsFloor(sync: SyncFn, benchCase: BenchCase, rounds: number, batchMs: number): CoreResult {
  const texts = benchCase.bodies.map((b) => b.text);
  const requests = texts.map((t) => JSON.parse(t));
  const responses = requests.map((r) => sync(r, BENCH_CONTEXT));
  const n = texts.length;
  const core: Work = { run: (i) => sync(requests[i % n], BENCH_CONTEXT) };
  const parse: Work = { run: (i) => JSON.parse(texts[i % n]!) };
  const stringify: Work = { run: (i) => JSON.stringify(responses[i % n]) };
  const floor: Work = { run: (i) => [JSON.parse(texts[i % n]!), JSON.stringify(responses[i % n])] };

  // Warm up, then size the batches.
  for (const w of [core, floor]) warmUp(w, 300);
  const coreUnits = unitsFor(core, n, batchMs);
  const floorUnits = unitsFor(floor, n, batchMs);
  const c: number[] = [];
  const f: number[] = [];
  const p: number[] = [];
  const s: number[] = [];
  const ratios: number[] = [];
  for (let round = 0; round < rounds; round++) {
    const coreMs = timeBatch(core, coreUnits);
    const floorMs = timeBatch(floor, floorUnits);
    c.push(coreMs);
    f.push(floorMs);
    ratios.push(coreMs / floorMs);
    p.push(timeBatch(parse, n));
    s.push(timeBatch(stringify, n));
  }
  void sink;
  return {
    members: benchCase.members,
    situation: benchCase.situation,
    coreMs: median(c),
    floorMs: median(f),
    parseMs: median(p),
    stringifyMs: median(s),
    ratio: median(ratios),
    requestBytes: Math.round(texts.reduce((a, t) => a + t.length, 0) / n),
    responseBytes: Math.round(responses.reduce((a, r) => a + JSON.stringify(r).length, 0) / n),
  };
}

export interface ScalingPoint {
  members: number;
  /** Milliseconds per sync. */
  ms: number;
}

/**
 * Milliseconds per sync for each case, median of `rounds` batches. Each round times every case in turn, so
 * that a slow spell of the machine (they last a second or more here) falls on several sizes, not on all
 * the rounds of one: timed one size after another, the 5,000-member median once read twice the 4,000's.
 */
export function syncTimes(sync: SyncFn, cases: readonly BenchCase[], rounds: number, batchMs: number): ScalingPoint[] {
  const works = cases.map((benchCase) => {
    const requests = benchCase.bodies.map((b) => JSON.parse(b.text));
    const n = requests.length;
    const core: Work = { run: (i) => sync(requests[i % n], BENCH_CONTEXT) };
    warmUp(core, 150);
    return { members: benchCase.members, core, units: unitsFor(core, n, batchMs), times: [] as number[] };
  });
  for (let round = 0; round < rounds; round++) {
    for (const w of works) w.times.push(timeBatch(w.core, w.units));
  }
  return works.map((w) => ({ members: w.members, ms: median(w.times) }));
}

export interface Fit {
  /** Microseconds per member. */
  slopeUs: number;
  interceptMs: number;
  r2: number;
}

/** The least-squares line through (x, y) points: its slope, intercept and R². */
function leastSquares(points: readonly { x: number; y: number }[]): { slope: number; intercept: number; r2: number } {
  const n = points.length;
  const mx = points.reduce((a, p) => a + p.x, 0) / n;
  const my = points.reduce((a, p) => a + p.y, 0) / n;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (const p of points) {
    sxy += (p.x - mx) * (p.y - my);
    sxx += (p.x - mx) ** 2;
    syy += (p.y - my) ** 2;
  }
  const slope = sxy / sxx;
  return { slope, intercept: my - slope * mx, r2: syy === 0 ? 1 : (sxy * sxy) / (sxx * syy) };
}

/** Least-squares line through (members, ms). */
export function linearFit(points: ScalingPoint[]): Fit {
  const { slope, intercept, r2 } = leastSquares(points.map((p) => ({ x: p.members, y: p.ms })));
  return { slopeUs: slope * 1000, interceptMs: intercept, r2 };
}

/** How much a series of readings taken at even steps changes a step, by least squares. */
export const stepTrend = (values: readonly number[]): number => leastSquares(values.map((y, x) => ({ x, y }))).slope;
