/**
 * `npm run bench:growth`: whether the hook's memory grows from one load to the next, which the one load of
 * `npm run bench` cannot tell. One hook process, after a 5 s warm-up load, takes GROWTH_CYCLES (default 6)
 * loads of GROWTH_SECONDS (default 30) at 5,000 members, each followed by IDLE_SECONDS idle, and prints after
 * each the median RSS under the load, RSS once idle, and what its JavaScript holds then (the V8 heap in use
 * and external memory, from its /metrics, and whether a full collection came in the idle seconds, without
 * which the heap still held garbage); then the least-squares trend of idle RSS and of what the JavaScript
 * holds, from the second load on (the first still compiles code). A leak grows what the JavaScript holds load after load. With COMPARE_DIST=path to
 * another build's dist/ (an older commit's), that build takes the same cycles next.
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { median, stepTrend } from './core.js';
import { HOOK_MAIN, hookMainIn, loadSync } from './dist.js';
import { freePort, load, mb, rssBytes, startHook } from './http.js';
import { IDLE_SECONDS, hookIdle, jsHeldMb } from './memory.js';
import { benchCase } from './requests.js';

const CYCLES = Number(process.env['GROWTH_CYCLES'] ?? 6);
const SECONDS = Number(process.env['GROWTH_SECONDS'] ?? 30);
const MEMBERS = 5000;
const CONNECTIONS = 5;
const builds: [string, string][] = [['this build', HOOK_MAIN]];
const other = process.env['COMPARE_DIST'];
if (other) builds.push([other, hookMainIn(pathToFileURL(`${resolve(other)}/`))]);
const bodies = benchCase(await loadSync(), MEMBERS, 'steady').bodies.map((b) => b.text);

/** MB per load, least squares over the loads after the first. */
const trend = (values: number[]) => stepTrend(values.slice(1));

for (const [name, main] of builds) {
  const port = await freePort();
  const server = await startHook(name, main, port);
  try {
    await load({ server, bodies, connections: CONNECTIONS, seconds: 5 });
    const held: number[] = [];
    const idleRss: number[] = [];
    for (let cycle = 1; cycle <= CYCLES; cycle++) {
      const samples: number[] = [];
      const timer = setInterval(() => samples.push(mb(rssBytes(server.pid))), 1000);
      const result = await load({ server, bodies, connections: CONNECTIONS, seconds: SECONDS });
      clearInterval(timer);
      const reading = await hookIdle(server);
      held.push(jsHeldMb(reading.js));
      idleRss.push(reading.settledMb);
      console.log(
        `${name}, load ${cycle}: ${result.requests} requests, ${result.errors} errors; RSS under the load (median) ${median(samples).toFixed(0)} MB, ` +
          `${IDLE_SECONDS} s after it ${reading.settledMb.toFixed(1)} MB; V8 heap in use ${reading.js.heapUsedMb.toFixed(2)} MB, external ${reading.js.externalMb.toFixed(2)} MB` +
          (reading.collected ? '' : ' (no full collection while idle: the heap still held garbage)'),
      );
    }
    if (CYCLES >= 3) {
      console.log(`${name}: trend from the second load on, the JavaScript ${trend(held).toFixed(3)} MB a load, idle RSS ${trend(idleRss).toFixed(1)} MB a load`);
    }
  } finally {
    await server.stop();
  }
}
