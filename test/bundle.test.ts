/**
 * The hook as it ships: dist/hook.mjs, the one file `npm run build` bundles
 * and the image runs, started from a directory that holds nothing else. It
 * answers every sample in hooks/ with the bytes the server under test gives,
 * serves its metrics, refuses the JSON that takes the most memory within the
 * heap of a 512 MiB container, and stops cleanly on SIGTERM.
 */
import t, { type Test } from 'tap';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { bundleHook } from '../scripts/bundle.js';
import { buildServer } from '../src/server.js';
import { DEFAULT_SETTINGS } from '../src/settings.js';

/** Starts hook.mjs from `dir` on a free loopback port, with `env` and Node's `flags`; resolves once it listens. */
async function startBundle(t: Test, dir: string, env: Record<string, string>, flags: string[] = []) {
  const child = spawn(process.execPath, [...flags, 'hook.mjs'], {
    cwd: dir,
    env: { PATH: process.env['PATH'] ?? '', PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  t.teardown(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  // If tap itself is killed, the hook must not outlive it.
  const orphaned = () => child.kill('SIGKILL');
  process.once('exit', orphaned);
  t.teardown(() => process.off('exit', orphaned));
  // 'close', not 'exit': its output has been read to the end by then.
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  const messages: string[] = [];
  const base = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout }).on('line', (line) => {
      const msg = String((JSON.parse(line) as { msg?: unknown }).msg);
      messages.push(msg);
      const url = /^Server listening at (http:\/\/\S+)/.exec(msg)?.[1];
      if (url) resolve(url);
    });
    void exited.then((code) => reject(new Error(`hook.mjs exited with ${code} before listening: ${stderr}`)));
    setTimeout(() => reject(new Error(`hook.mjs did not listen within 30 s: ${stderr}`)), 30_000).unref();
  });
  return { child, base, messages, exited, stderr: () => stderr };
}

t.test('dist/hook.mjs, alone in a directory', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'memcached-operator-bundle-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const imports = await bundleHook(join(dir, 'hook.mjs'));
  t.same(
    imports.filter((path) => !path.startsWith('node:') && !builtinModules.includes(path)),
    [],
    'the bundle imports nothing but Node built-ins: it needs no node_modules',
  );

  await t.test('carries the licenses of the packages inside it', async (t) => {
    const text = readFileSync(join(dir, 'hook.mjs.LICENSES.txt'), 'utf8');
    const manifest = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { dependencies: Record<string, string> };
    for (const name of Object.keys(manifest.dependencies)) {
      const { version, license } = JSON.parse(readFileSync(new URL(`../node_modules/${name}/package.json`, import.meta.url), 'utf8')) as {
        version: string;
        license: string;
      };
      const title = `${name}@${version} (${license})\n\n`;
      const at = text.indexOf(title);
      t.ok(at >= 0, `${name}@${version} is listed`);
      const body = text.slice(at + title.length, at + title.length + 300);
      t.match(body, /licen[cs]e/i, `${name}: its license text follows`);
      t.notMatch(body, /ships no license file/, `${name}: from the package's own license file`);
    }
  });

  // No time for in-flight requests at the end: with none, the close (a turn of the event loop) is still a clean exit.
  const { child, base, messages, exited, stderr } = await startBundle(t, dir, { SHUTDOWN_DELAY_MS: '1', SHUTDOWN_TIMEOUT_MS: '0' });

  await t.test('answers every sample in hooks/ as the server under test does', async (t) => {
    const samples = new URL('../hooks/', import.meta.url);
    const files = readdirSync(samples).filter((f) => f.endsWith('.request.json'));
    t.ok(files.length >= 5, 'hooks/ holds the samples');
    // Both on the real clock: a condition that changes is stamped with the current second, so the
    // in-process answer is taken before and after, and compared when the second did not turn between.
    const app = buildServer();
    t.teardown(() => app.close());
    for (const file of files) {
      const path = file.startsWith('customize') ? '/customize' : '/sync';
      const payload = readFileSync(new URL(file, samples));
      const local = async () => (await app.inject({ method: 'POST', url: path, headers: { 'content-type': 'application/json' }, payload })).body;
      for (let attempt = 1; ; attempt++) {
        const before = await local();
        const res = await fetch(`${base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: payload });
        const text = await res.text();
        const after = await local();
        if (before !== after && attempt < 5) continue;
        t.equal(res.status, 200, file);
        t.equal(text, before, `${file}: the same bytes`);
        break;
      }
    }
  });

  await t.test('serves its metrics, process metrics included', async (t) => {
    const text = await (await fetch(`${base}/metrics`)).text();
    t.match(text, /^memcached_operator_hook_requests_total\{hook="sync",outcome="ok"\} [1-9]/m, 'the syncs above, counted');
    t.match(text, /^process_cpu_user_seconds_total /m, "prom-client's process metrics");
  });

  await t.test('in the heap of a 512 MiB container, bodies of millions of empty objects are refused, and the hook lives on', async (t) => {
    // `[{},{},…]` is the JSON that takes the most memory per byte: a body of the limit's size holds 2.8 million
    // objects, about 180 MB of heap once parsed. In a container of 512 MiB (the chart's limit) V8 gives Node 20
    // and 24 (the image's) a heap of 259 MiB, which these flags give it anywhere: the hook as it ships, in the
    // heap it has there, kept 60 MB of it free. A walk that queued every value it had still to visit took it past
    // its end. (Run from TypeScript instead, with the loader's own heap, and with --max-old-space-size alone, which
    // leaves Node 24 a far larger young generation, the hook ran out of heap on Node 24 in a quarter of runs or more.)
    const count = Math.floor((DEFAULT_SETTINGS.bodyLimit - 64) / 3);
    const empties = Buffer.from(`[${'{},'.repeat(count - 1)}{}]`);
    const poisoned = Buffer.from(`[${'{},'.repeat(count - 1)}{"__proto__":{}}]`);
    const hook = await startBundle(t, dir, {}, ['--max-old-space-size=256', '--max-semi-space-size=1']);
    const send = async (body: Buffer) => {
      try {
        const res = await fetch(`${hook.base}/sync`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
        return [res.status, await res.json()];
      } catch (error) {
        // The connection is gone: say why, from what the hook wrote as it died.
        await Promise.race([hook.exited, new Promise((resolve) => setTimeout(resolve, 5_000))]);
        throw new Error(`${(error as Error).message}; the hook's exit code ${hook.child.exitCode}, signal ${hook.child.signalCode}, stderr: ${hook.stderr().slice(0, 2_000)}`);
      }
    };
    for (let i = 1; i <= 2; i++) {
      t.same(await send(empties), [400, { message: 'body: must be object', field: 'body' }], `${(empties.length / 2 ** 20).toFixed(1)} MiB, ${i} of 2`);
    }
    const [status, answer] = await send(poisoned);
    t.same([status, (answer as { field?: unknown }).field], [400, `[${count - 1}].__proto__`], 'a prototype key at its end: found, and named');
    t.equal(hook.child.exitCode, null, `still running${hook.stderr() && `: ${hook.stderr()}`}`);
    hook.child.kill('SIGKILL');
    await hook.exited;
  });

  await t.test('SIGTERM: drains and exits 0, SHUTDOWN_TIMEOUT_MS 0 cutting nothing', async (t) => {
    child.kill('SIGTERM');
    t.equal(await exited, 0, stderr());
    t.ok(messages.includes('stopped'), 'logged its last line');
    t.notOk(messages.some((m) => m.startsWith('requests still running')), 'no request was cut');
  });
});
