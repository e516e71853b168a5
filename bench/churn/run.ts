/**
 * The churn bench (`npm run churn`): how many cached keys survive each
 * cluster change, measured on real memcached servers, for the operator's
 * built hook (dist/) and for the naive v0.0.2 baseline. Writes bench/CHURN.md.
 *
 * CHURN_KEYS sets the size of the key set (default 40000).
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { LastChange } from '../../src/api/proxy-status.js';
import type { McrouterConfig } from '../../src/core/mcrouter-config.js';
import type * as RouteModule from '../../src/mcrouter/route.js';
import type * as ServerModule from '../../src/server.js';
import { Workload, type ChurnEvent } from './cluster.js';
import { OperatorSession, naiveConfig } from './controllers.js';
import { Fleet, bestHitRate, measureEvent } from './measure.js';
import { locateMemcached } from './memcached.js';
import { checksOf, renderReport, type EventResult } from './report.js';

const log = (line: string) => process.stderr.write(`${line}\n`);
const started = performance.now();

const keyCount = Number(process.env['CHURN_KEYS'] ?? 40_000);
if (!Number.isInteger(keyCount) || keyCount < 1000) throw new Error(`CHURN_KEYS must be an integer >= 1000, not ${process.env['CHURN_KEYS']}`);
const keys = Array.from({ length: keyCount }, (_, i) => `cache:item:${i}`);

// The hook and route walker as built (npm run churn builds first): what ships is what is measured.
const dist = new URL('../../dist/', import.meta.url);
const load = async <T>(path: string): Promise<T> => {
  try {
    return (await import(new URL(path, dist).href)) as T;
  } catch (error) {
    throw new Error(`cannot load dist/${path}: run \`npm run build\` first (${(error as Error).message})`);
  }
};
const { buildServer } = await load<typeof ServerModule>('server.js');
const { compileConfig } = await load<typeof RouteModule>('mcrouter/route.js');

const binary = locateMemcached(log);
const fleet = new Fleet(binary.path);
const stopFleet = () => fleet.stopAll();
process.once('SIGINT', () => void stopFleet().finally(() => process.exit(130)));

// Every sync is 30 s after the previous one, so lastChange times tell the steps apart.
let now = new Date('2026-11-25T12:00:00Z');
const rfc3339 = (d: Date) => d.toISOString().replace(/\.\d{3}Z$/, 'Z');
const tick = () => {
  now = new Date(now.getTime() + 30_000);
  return rfc3339(now);
};
const app = buildServer({ clock: () => now });

const results: EventResult[] = [];

/** A workload with its proxy, the configs both controllers currently run, and the events played on it. */
class Scenario {
  readonly session: OperatorSession;
  private operatorConfig!: McrouterConfig;
  private naive!: McrouterConfig;

  constructor(
    readonly workload: Workload,
    proxyName: string,
  ) {
    this.session = new OperatorSession(app, proxyName, workload);
  }

  async create(replicas: number): Promise<void> {
    for (const pod of this.workload.create(replicas)) await fleet.ensureRunning(pod);
    // The first sync creates the children; the second sees them applied.
    await this.session.sync(this.workload.state, tick());
    this.operatorConfig = (await this.session.sync(this.workload.state, tick())).config;
    this.naive = naiveConfig(this.workload, this.workload.state);
    log(`${this.workload.kind} ${this.workload.name}: ${replicas} pods`);
  }

  /** The live servers of the operator's pool, in slot order (holes left out). */
  operatorSlots(): string[] {
    const pool = this.operatorConfig.pools[this.workload.name];
    return pool ? pool.servers.filter((_, i) => pool.weights?.[i] !== 0) : [];
  }

  /** A pool's slots as short pod labels, a weight-0 hole struck through. */
  private poolText(config: McrouterConfig): string {
    const pool = config.pools[this.workload.name];
    if (!pool) return '(no pool)';
    return pool.servers.map((s, i) => (pool.weights?.[i] === 0 ? `~~${this.workload.label(s)}~~` : this.workload.label(s))).join(' ');
  }

  /** The pod at the middle of the operator's live slots: a removal there is the case slot order is about. */
  middlePod(): string {
    const slots = this.operatorSlots();
    const ip = slots[Math.floor(slots.length / 2)]!.replace(/:\d+$/, '');
    const pod = this.workload.state.find((p) => p.ip === ip);
    if (!pod) throw new Error(`no pod has IP ${ip}`);
    return pod.name;
  }

  async play(change: (workload: Workload) => void): Promise<void> {
    change(this.workload);
    const event: ChurnEvent = this.workload.played.at(-1)!;
    const operatorSteps: McrouterConfig[] = [];
    const lastChanges: (LastChange | undefined)[] = [];
    const operatorPools: string[] = [];
    for (const step of event.steps) {
      const answer = await this.session.sync(step.pods, tick());
      operatorSteps.push(answer.config);
      lastChanges.push(answer.lastChange);
      operatorPools.push(this.poolText(answer.config));
    }
    const naiveSteps = event.steps.map((step) => naiveConfig(this.workload, step.pods));
    const operator = await measureEvent(fleet, compileConfig, this.workload, event, { before: this.operatorConfig, steps: operatorSteps }, keys);
    const naive = await measureEvent(fleet, compileConfig, this.workload, event, { before: this.naive, steps: naiveSteps }, keys);
    this.operatorConfig = operatorSteps.at(-1)!;
    this.naive = naiveSteps.at(-1)!;
    const best = bestHitRate(event);
    results.push({ workload: this.workload.kind, event, best, operator, naive, lastChanges, operatorPools });
    const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
    log(`${event.title}: operator ${pct(operator.final)}, naive ${pct(naive.final)}, best ${pct(best)}`);
  }
}

try {
  const statefulSet = new Scenario(new Workload('StatefulSet', 'memcached', 1), 'sessions');
  await statefulSet.create(5);
  await statefulSet.play((w) => w.scaleStatefulSet(6));
  await statefulSet.play((w) => w.scaleStatefulSet(4));
  // RollingUpdate replaces pods from the highest ordinal down.
  for (const ordinal of [3, 2, 1, 0]) await statefulSet.play((w) => w.restartStatefulSetPod(ordinal));

  const deployment = new Scenario(new Workload('Deployment', 'memcached-cache', 2), 'fragments');
  await deployment.create(5);
  await deployment.play((w) => w.replaceDeploymentPod(deployment.middlePod(), 'old-gone-first'));
  await deployment.play((w) => w.replaceDeploymentPod(deployment.middlePod(), 'new-up-first'));
  await deployment.play((w) => w.deleteDeploymentPod(deployment.middlePod()));
  await deployment.play((w) => w.scaleUpDeployment());

  const checks = checksOf(results);
  const report = renderReport(
    {
      date: new Date().toISOString().slice(0, 10),
      node: process.versions.node,
      memcached: `${binary.version} (${binary.path}, ${binary.how === 'found' ? 'already installed' : 'installed by this run with apt-get'})`,
      keys: keyCount,
      seconds: (performance.now() - started) / 1000,
      processes: fleet.size,
    },
    results,
    checks,
  );
  const out = new URL('../CHURN.md', import.meta.url);
  writeFileSync(out, report);
  process.stdout.write(report);
  log(`wrote ${fileURLToPath(out)}`);
  if (checks.some((c) => !c.ok)) process.exitCode = 1;
} finally {
  await stopFleet();
  await app.close();
}
