/**
 * The seed and the number of runs of a property test: FC_SEED=n replays a run (each test prints its seed),
 * FC_RUNS=n runs more (or fewer) than the test's own default.
 */
export const propertySeed = (): number =>
  process.env['FC_SEED'] !== undefined ? Number(process.env['FC_SEED']) : Date.now() ^ (Math.random() * 0x100000000);

export const propertyRuns = (byDefault: number): number => Number(process.env['FC_RUNS'] ?? byDefault);

/**
 * Where a check starts, for the checks that shrink slowly (the model, order invariance, the CRD and customize
 * agreements): its seed and, with FC_PATH=p beside FC_SEED, fast-check's `path`, which a failure prints with its
 * seed. Replaying a path goes straight to that case: the shrunk case, or, from a shrink cut short by the time
 * limit, the smallest found so far, shrinking on from there, without the runs and shrinks before it. A path says
 * nothing without the seed it came from.
 */
export function propertyStart(): { seed: number; path?: string } {
  const path = process.env['FC_PATH'];
  if (path === undefined) return { seed: propertySeed() };
  if (process.env['FC_SEED'] === undefined) throw new Error('FC_PATH replays a case of one seed: set FC_SEED to the seed printed with it');
  return { seed: propertySeed(), path };
}
