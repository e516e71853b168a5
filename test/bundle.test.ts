/**
 * The hook as it ships: dist/hook.mjs, the one file `npm run build` bundles
 * and the image runs, started from a directory that holds nothing else. It
 * answers every sample in hooks/ with the bytes the server under test gives,
 * serves its metrics, and stops cleanly on SIGTERM.
 */
import t from 'tap';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { bundleHook } from '../scripts/bundle.js';
import { buildServer } from '../src/server.js';

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

  const child = spawn(process.execPath, ['hook.mjs'], {
    cwd: dir,
    // No time for in-flight requests at the end: with none, the close (a turn of the event loop) is still a clean exit.
    env: { PATH: process.env['PATH'] ?? '', PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', SHUTDOWN_DELAY_MS: '1', SHUTDOWN_TIMEOUT_MS: '0' },
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
  const listening = new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout }).on('line', (line) => {
      const msg = String((JSON.parse(line) as { msg?: unknown }).msg);
      messages.push(msg);
      const url = /^Server listening at (http:\/\/\S+)/.exec(msg)?.[1];
      if (url) resolve(url);
    });
    void exited.then((code) => reject(new Error(`hook.mjs exited with ${code} before listening: ${stderr}`)));
    setTimeout(() => reject(new Error(`hook.mjs did not listen within 30 s: ${stderr}`)), 30_000).unref();
  });
  const base = await listening;

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

  await t.test('SIGTERM: drains and exits 0, SHUTDOWN_TIMEOUT_MS 0 cutting nothing', async (t) => {
    child.kill('SIGTERM');
    t.equal(await exited, 0, stderr);
    t.ok(messages.includes('stopped'), 'logged its last line');
    t.notOk(messages.some((m) => m.startsWith('requests still running')), 'no request was cut');
  });
});
