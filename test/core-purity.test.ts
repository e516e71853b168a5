/**
 * The core is pure: sync() reads its request without changing it, and what
 * it answers shares no object with the request or with another answer. A
 * caller that edits one answer (a model, a later processing step) changes
 * nothing else. Checked on every hook sample, with the request frozen deep
 * (a write throws in a module, which is strict) and each answer defaced.
 */
import t from 'tap';
import { readFileSync, readdirSync } from 'node:fs';
import type { SyncRequest } from '../src/api/hook.js';
import { sync } from '../src/core/sync.js';
import { SYNC_CONTEXT } from './helpers/hook.js';

const deepFreeze = <T>(value: T): T => {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const field of Object.values(value)) deepFreeze(field);
  }
  return value;
};

/** Every string, number and boolean changed, and every array grown: whatever another answer shares shows. */
const deface = (value: unknown): void => {
  if (typeof value !== 'object' || value === null) return;
  const fields = value as Record<string, unknown>;
  for (const key of Object.keys(fields)) {
    const field = fields[key];
    if (typeof field === 'string') fields[key] = `${field}!`;
    else if (typeof field === 'number') fields[key] = field + 1;
    else if (typeof field === 'boolean') fields[key] = !field;
    else deface(field);
  }
  if (Array.isArray(value)) value.push('defaced');
};

const samples = readdirSync(new URL('../hooks/', import.meta.url)).filter((f) => f.startsWith('sync-') && f.endsWith('.request.json'));

t.test('sync() leaves its request as it was and answers with objects of its own', async (t) => {
  t.ok(samples.length >= 5, `${samples.length} samples`);
  for (const file of samples) {
    const text = readFileSync(new URL(`../hooks/${file}`, import.meta.url), 'utf8');
    const request = deepFreeze(JSON.parse(text) as SyncRequest);
    const first = sync(request, SYNC_CONTEXT);
    const bytes = JSON.stringify(first);
    t.equal(JSON.stringify(request), JSON.stringify(JSON.parse(text)), `${file}: the request unchanged`);
    deface(first);
    t.not(JSON.stringify(first), bytes, `${file}: the first answer defaced`);
    t.equal(JSON.stringify(sync(request, SYNC_CONTEXT)), bytes, `${file}: the same request, the same bytes, whatever became of the first answer`);
  }
});
