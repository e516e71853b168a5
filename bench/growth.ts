/**
 * `npm run bench:growth`: whether the hook's memory grows under a long load, which the 30 s load of
 * `npm run bench` cannot tell (RSS swings by about 50 MB with each collection there). Loads the built
 * hook at 5,000 members for GROWTH_SECONDS (default 90) after a short warm-up, samples RSS each second,
 * and prints the median of each third of the load and the RSS 30 s after it. With COMPARE_DIST=path
 * to another build's dist/ (an older commit's), the two alternate over two rounds, side by side.
 */
import { resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import { median } from './core.js';
import { HOOK_MAIN, hookMainIn, loadSync } from './dist.js';
import { freePort, load, mb, rssBytes, startHook } from './http.js';
import { benchCase } from './requests.js';

const SECONDS = Number(process.env['GROWTH_SECONDS'] ?? 90);
const MEMBERS = 5000;
const CONNECTIONS = 5;
const IDLE_SECONDS = 30;
const builds: [string, string][] = [['this build', HOOK_MAIN]];
const other = process.env['COMPARE_DIST'];
if (other) builds.push([other, hookMainIn(pathToFileURL(`${resolve(other)}/`))]);
const bodies = benchCase(await loadSync(), MEMBERS, 'steady').bodies.map((b) => b.text);

for (const round of [1, 2]) {
  for (const [name, main] of round === 1 ? builds : [...builds].reverse()) {
    const port = await freePort();
    const server = await startHook(name, main, port);
    try {
      await load({ server, bodies, connections: CONNECTIONS, seconds: 5 });
      const samples: number[] = [];
      const timer = setInterval(() => samples.push(mb(rssBytes(server.pid))), 1000);
      const result = await load({ server, bodies, connections: CONNECTIONS, seconds: SECONDS });
      clearInterval(timer);
      const third = Math.floor(samples.length / 3);
      const thirds = [samples.slice(0, third), samples.slice(third, 2 * third), samples.slice(samples.length - third)].map(median);
      await sleep(IDLE_SECONDS * 1000);
      const idle = mb(rssBytes(server.pid));
      console.log(
        `${name}, round ${round}: ${result.requests} requests, ${result.errors} errors; RSS medians of each ${third} s third ` +
          `${thirds.map((m) => m.toFixed(0)).join(' / ')} MiB; ${IDLE_SECONDS} s after the load ${idle.toFixed(0)} MiB`,
      );
    } finally {
      await server.stop();
    }
  }
}
