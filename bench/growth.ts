/**
 * `npm run bench:growth`: whether the hook's memory grows from one load to the next, which the one load of
 * `npm run bench` cannot tell. One hook process takes GROWTH_CYCLES (default 4) loads of GROWTH_SECONDS
 * (default 30) at 5,000 members, each followed by IDLE_SECONDS idle, and prints after each the median RSS
 * under the load, RSS once idle, and what its JavaScript holds then (the V8 heap in use and external memory,
 * from its /metrics): a leak grows that last figure load after load. Under a load RSS swings by some 50 MB
 * with each collection, and idle RSS by 10-20 MB with what the allocator keeps of freed native memory.
 * With COMPARE_DIST=path to another build's dist/ (an older commit's), that build takes the same cycles next.
 */
import { resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import { median } from './core.js';
import { HOOK_MAIN, hookMainIn, loadSync } from './dist.js';
import { freePort, jsMemoryMb, load, mb, rssBytes, startHook } from './http.js';
import { benchCase } from './requests.js';

const CYCLES = Number(process.env['GROWTH_CYCLES'] ?? 4);
const SECONDS = Number(process.env['GROWTH_SECONDS'] ?? 30);
const MEMBERS = 5000;
const CONNECTIONS = 5;
/** Long enough for V8's memory reducer, which gave memory back 8-23 s after a load here. */
const IDLE_SECONDS = 30;
const builds: [string, string][] = [['this build', HOOK_MAIN]];
const other = process.env['COMPARE_DIST'];
if (other) builds.push([other, hookMainIn(pathToFileURL(`${resolve(other)}/`))]);
const bodies = benchCase(await loadSync(), MEMBERS, 'steady').bodies.map((b) => b.text);

for (const [name, main] of builds) {
  const port = await freePort();
  const server = await startHook(name, main, port);
  try {
    await load({ server, bodies, connections: CONNECTIONS, seconds: 5 });
    const held: number[] = [];
    for (let cycle = 1; cycle <= CYCLES; cycle++) {
      const samples: number[] = [];
      const timer = setInterval(() => samples.push(mb(rssBytes(server.pid))), 1000);
      const result = await load({ server, bodies, connections: CONNECTIONS, seconds: SECONDS });
      clearInterval(timer);
      await sleep(IDLE_SECONDS * 1000);
      const idleMb = mb(rssBytes(server.pid));
      const { heapUsedMb, externalMb } = await jsMemoryMb(server);
      held.push(heapUsedMb + externalMb);
      console.log(
        `${name}, load ${cycle}: ${result.requests} requests, ${result.errors} errors; RSS under the load (median) ${median(samples).toFixed(0)} MiB, ` +
          `${IDLE_SECONDS} s after it ${idleMb.toFixed(1)} MiB; V8 heap in use ${heapUsedMb.toFixed(2)} MiB, external ${externalMb.toFixed(2)} MiB`,
      );
    }
    console.log(`${name}: the JavaScript held ${held.map((m) => m.toFixed(2)).join(', ')} MiB after each load (${(held.at(-1)! - held[0]!).toFixed(2)} MiB from the first to the last)`);
  } finally {
    await server.stop();
  }
}
