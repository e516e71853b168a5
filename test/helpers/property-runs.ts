/**
 * The seed and the number of runs of a property test: FC_SEED=n replays a run (each test prints its seed),
 * FC_RUNS=n runs more (or fewer) than the test's own default.
 */
export const propertySeed = (): number =>
  process.env['FC_SEED'] !== undefined ? Number(process.env['FC_SEED']) : Date.now() ^ (Math.random() * 0x100000000);

export const propertyRuns = (byDefault: number): number => Number(process.env['FC_RUNS'] ?? byDefault);
