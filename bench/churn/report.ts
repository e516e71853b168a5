/** bench/CHURN.md: the table of hit rates per event, the checks, and every step. */
import type { LastChange } from '../../src/api/proxy-status.js';
import type { ChurnEvent } from './cluster.js';
import type { Measurement } from './measure.js';

export interface EventResult {
  workload: string;
  event: ChurnEvent;
  best: number;
  operator: Measurement;
  naive: Measurement;
  /** Per step: the operator's pool after that step's sync, as short pod labels. */
  operatorPools: string[];
  /** Per step: the status.lastChange that step's sync set, if it set one. */
  lastChanges: (LastChange | undefined)[];
}

export interface Check {
  ok: boolean;
  text: string;
}

export interface RunInfo {
  date: string;
  node: string;
  memcached: string;
  keys: number;
  seconds: number;
  processes: number;
}

const pct = (x: number): string => `${(x * 100).toFixed(1)}%`;

function serversOf(event: ChurnEvent): string {
  const after = event.steps.at(-1)!.pods.filter((p) => !p.terminating).length;
  return `${event.before.length} → ${after}`;
}

export function checksOf(results: EventResult[]): Check[] {
  const checks: Check[] = [];
  for (const r of results.filter((r) => r.event.kind === 'scale-up')) {
    const n = r.event.steps.at(-1)!.pods.length;
    // A key lands on the newcomer with probability 1/n: allow three standard deviations of the key sample.
    const sigma = Math.sqrt((1 / n) * (1 - 1 / n) / r.operator.keys);
    const floor = (n - 1) / n;
    checks.push({
      ok: r.operator.final >= floor - 3 * sigma,
      text: `${r.workload} ${r.event.title}: the operator keeps ${pct(r.operator.final)} of hits; (n−1)/n = ${pct(floor)} (±${pct(3 * sigma)} for ${r.operator.keys} keys); naive ${pct(r.naive.final)}`,
    });
  }
  const restarts = results.filter((r) => r.event.kind === 'restart');
  const lostOnRestart = restarts.reduce((n, r) => n + r.operator.collateral, 0);
  checks.push({
    ok: restarts.length > 0 && lostOnRestart === 0,
    text:
      `rolling restart (${restarts.length} pods): keys not held by the restarting pod that the operator missed at any step: ` +
      `${lostOnRestart === 0 ? 'none' : pct(lostOnRestart)}; naive: ${restarts.map((r) => pct(r.naive.collateral)).join(', ')} of all keys`,
  });
  const meanLoss = (rate: (r: EventResult) => number) => results.reduce((n, r) => n + (1 - rate(r)), 0) / results.length;
  const operatorLoss = meanLoss((r) => r.operator.final);
  const naiveLoss = meanLoss((r) => r.naive.final);
  // Within a point of each other counts as a tie: the key sample scatters that much.
  const worse = results.filter((r) => r.naive.final < r.operator.final - 0.01).length;
  const better = results.filter((r) => r.naive.final > r.operator.final + 0.01).length;
  checks.push({
    ok: naiveLoss > operatorLoss,
    text:
      `keys lost per event, on average over all ${results.length}: operator ${pct(operatorLoss)}, naive ${pct(naiveLoss)} ` +
      `(${(naiveLoss / operatorLoss).toFixed(1)}×), best possible ${pct(meanLoss((r) => r.best))}; ` +
      `the naive controller loses more on ${worse} of ${results.length} events, fewer on ${better}`,
  });
  const mismatches = results.reduce((n, r) => n + r.operator.modelMismatches + r.naive.modelMismatches, 0);
  checks.push({
    ok: mismatches === 0,
    text: `every read came out as the routing predicts (a hit exactly when the key's server is the one it was written to and that memcached was not restarted): ${mismatches} exceptions`,
  });
  return checks;
}

export function renderReport(info: RunInfo, results: EventResult[], checks: Check[]): string {
  const lines: string[] = [];
  lines.push('# Keyspace churn: cached keys that survive each cluster change');
  lines.push('');
  lines.push(
    `Output of \`npm run churn\` (bench/churn/), ${info.date}: Node ${info.node}, ${info.memcached}, ` +
      `${info.processes} memcached processes on 127.0.0.1, ${info.keys.toLocaleString('en')} keys, ${info.seconds.toFixed(1)} s.`,
  );
  lines.push('');
  lines.push(
    'Every pod is a real memcached process; a pod that restarts or is replaced gets a fresh, empty one. ' +
      'Before each event the key set is written through the current config; the event is played step by step ' +
      '(each endpoint change is one sync of the real hook, its children and status fed back as Metacontroller does), ' +
      "and after every step every key is read through that step's config, each key routed with the bench's " +
      'mcrouter route walker (Ch3 / WeightedCh3). The naive baseline is ianlewis/memcached-operator v0.0.2: ' +
      'the ready IPs sorted as strings in one `PoolRoute`. Both run on the same servers, flushed between measurements.',
  );
  lines.push('');
  lines.push(
    '| # | event | servers | best | operator | naive | operator, worst step | naive, worst step | other keys lost: operator / naive | lastChange.keyspaceMoved |',
  );
  lines.push('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  results.forEach((r, i) => {
    const set = r.lastChanges.filter((c) => c !== undefined);
    const moved = set.length ? set.map((c) => c.keyspaceMoved).join(', ') : '(no change)';
    lines.push(
      `| ${i + 1} | ${r.workload} ${r.event.title} | ${serversOf(r.event)} | ${pct(r.best)} | **${pct(r.operator.final)}** | ${pct(r.naive.final)} | ` +
        `${pct(r.operator.lowest)} | ${pct(r.naive.lowest)} | ${pct(r.operator.collateral)} / ${pct(r.naive.collateral)} | ${moved} |`,
    );
  });
  lines.push('');
  lines.push('Columns:');
  lines.push('- **operator**, **naive**: hit rate after the event, when every pod is ready again.');
  lines.push(
    '- **best**: the most any balanced placement keeps: 1 − max(share of servers whose data is gone, share of servers that start empty ' +
      'and must take 1/n of the keys). The measured rates scatter around it by the key sample (about ±0.5 point).',
  );
  lines.push('- **worst step**: the lowest hit rate after any step of the event (a pod terminating, gone, back not ready, ...).');
  lines.push(
    '- **other keys lost**: keys written to a server that kept its data through the event, yet missed after some step ' +
      '(for a scale-up, the keys that must move to the newcomer).',
  );
  lines.push('- **lastChange.keyspaceMoved**: what the operator reported in `status.lastChange` on each sync of the event that changed a server list.');
  lines.push('');
  lines.push('## Checks');
  lines.push('');
  for (const c of checks) lines.push(`- ${c.ok ? 'PASS' : 'FAIL'}: ${c.text}`);
  lines.push('');
  lines.push('## Step by step');
  lines.push('');
  lines.push(
    "Hit rates after each step; the operator's pool after that step's sync (StatefulSet pods by hostname, Deployment pods by name suffix, " +
      'a weight-0 hole struck through); the `status.lastChange` that sync set.',
  );
  lines.push('');
  lines.push("| # | step | operator | naive | operator's pool | lastChange set |");
  lines.push('| --- | --- | --- | --- | --- | --- |');
  results.forEach((r, i) => {
    r.event.steps.forEach((step, s) => {
      const change = r.lastChanges[s];
      const changeText = change
        ? `added ${change.added.join(', ') || '-'}; removed ${change.removed.join(', ') || '-'}; keyspaceMoved ${change.keyspaceMoved}`
        : '';
      lines.push(
        `| ${s === 0 ? i + 1 : ''} | ${step.note} | ${pct(r.operator.steps[s]!.hits)} | ${pct(r.naive.steps[s]!.hits)} | ${r.operatorPools[s]} | ${changeText} |`,
      );
    });
  });
  lines.push('');
  return lines.join('\n');
}
