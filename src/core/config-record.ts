/**
 * What the status records of the config the sync writes, and the ConfigMap carries of it: the last change of
 * its servers or route (`lastChange`, also as the ConfigMap's annotation), since when the status has reported
 * it (`configSince`), and what the ConfigMap holds instead while it lacks it (`configBehind`).
 */
import { METACONTROLLER_LAST_APPLIED_ANNOTATION, type ConfigMap } from '../api/kubernetes.js';
import type { MemcachedProxy } from '../api/memcached-proxy.js';
import type { ConfigBehind, LastChange } from '../api/proxy-status.js';
import { laterChange, lastChangeAnnotation, lastChangeFromAnnotation, lastChangeOf, lostConfigChange } from './last-change.js';
import { configHash, type CurrentConfig, type McrouterConfig } from './mcrouter-config.js';
import { CONFIG_KEY, LAST_CHANGE_ANNOTATION } from './naming.js';

export interface ConfigRecordInput {
  parent: MemcachedProxy;
  /** The ConfigMap Metacontroller observed, if any. */
  observedConfigMap: ConfigMap | undefined;
  /** Its config.json, read (undefined: none, or not one the hook reads). */
  current: CurrentConfig | undefined;
  /** The config this sync writes: rendered, its hash, and as built. */
  text: string;
  hash: string;
  config: McrouterConfig;
  now: string;
}

export interface ConfigRecord {
  /** The observed ConfigMap holds this very config. */
  applied: boolean;
  lastChange: LastChange | undefined;
  /** lastChange as the ConfigMap's annotation carries it. */
  lastChangeText: string | undefined;
  configSince: string;
  /** While the ConfigMap lacks the config the last status asked for: what it holds, and since when. */
  configBehind: ConfigBehind | undefined;
  /** Whether the status shows configBehind before Ready says ConfigNotApplied (see configBehind()). */
  configBehindShown: boolean;
}

export function configRecord({ parent, observedConfigMap, current, text, hash, config, now }: ConfigRecordInput): ConfigRecord {
  const mounted = observedConfigMap?.data?.[CONFIG_KEY];
  // The status already reports this config.
  const reported = parent.status?.configHash === hash;
  // Such a status has recorded the change to it: the ConfigMap is not applied yet, or cannot be. Recording it
  // again would stamp a new time on every sync, and Metacontroller syncs again on every status it writes: a
  // loop, once a second, for as long as the ConfigMap stays behind.
  const recorded = reported ? parent.status?.lastChange : undefined;
  // The same text is the same servers and route: nothing changed (most syncs), nothing to compare.
  const applied = mounted === text;
  const changed = current ? (applied ? undefined : lastChangeOf(current, config, now)) : lostConfigChange(parent.status, hash, config, now);
  // A mounted config that is the new one came with its change, read from the ConfigMap: a parent older than it
  // (Metacontroller's cache behind the status it wrote) cannot take that away. Of that and the status's, the later.
  // Most syncs find there the very change the status records: nothing to read.
  const recordedText = lastChangeAnnotation(recorded);
  const observedText = observedConfigMap?.metadata.annotations?.[LAST_CHANGE_ANNOTATION];
  const carried = applied && observedText !== recordedText ? lastChangeFromAnnotation(observedText, now) : undefined;
  const lastChange = recorded ? laterChange(recorded, carried) : (changed ?? laterChange(carried, parent.status?.lastChange ?? undefined));

  const configSince = configSinceOf(reported ? parent.status?.configSince : undefined, applied, observedText, now);
  const behind = applied ? undefined : configBehind(parent, observedConfigMap, mounted, reported, configSince);
  return {
    applied,
    lastChange,
    lastChangeText: lastChange === recorded ? recordedText : lastChangeAnnotation(lastChange),
    configSince,
    configBehind: behind?.behind,
    configBehindShown: behind?.shown ?? false,
  };
}

/**
 * When the status first reported this config: carried while it does (`stored`, undefined when the status reports
 * another). But a ConfigMap whose config came with a change made after that holds a newer config (endpoints A,
 * then B, then A again, read with the status that asked for A: a parent a status behind the ConfigMap): this one
 * has been asked for again since that change, at the latest, and a wait for it to be applied counts from then, not
 * from the time it was asked for before B. `observedText`: the ConfigMap's last change annotation.
 */
function configSinceOf(stored: string | undefined, applied: boolean, observedText: string | undefined, now: string): string {
  if (stored === undefined) return now;
  const heldChange = applied ? undefined : lastChangeFromAnnotation(observedText, now);
  // Not after now, should the change come from a hook replica whose clock runs ahead.
  const heldSince = heldChange && (Date.parse(heldChange.time) > Date.parse(now) ? now : heldChange.time);
  return heldSince && Date.parse(heldSince) > Date.parse(stored) ? heldSince : stored;
}

/**
 * Whether the ConfigMap lacks the config the hook asked for, what it holds instead and since when. Metacontroller
 * writes the status whether or not it could apply the children, so the status's configHash is the config the last
 * answer asked for. When neither the ConfigMap nor Metacontroller's record of what it last applied there holds
 * that one, the API server refused the update, or Metacontroller's cache has yet to show it (a ConfigMap edited by
 * hand still has the config in that record, and is set back now).
 *
 * A refusal leaves the ConfigMap as it was, whatever configs the hook asks for after it, and a pool whose endpoints
 * change every few seconds asks for a new one at every sync: so the wait runs for as long as the ConfigMap holds
 * the same config lacking the one asked for, across configs, and starts over when the ConfigMap changes (it is
 * being applied: a cache a step behind, or a parent a status behind the ConfigMap, which then holds a config newer
 * than the one the status asked for). While one config is asked for, the wait runs from when the status first
 * asked for it (configSince), and the status shows none of this until Ready says ConfigNotApplied: written at the sync right
 * after it (Metacontroller syncs on every status it writes), a status that changed there and changed back once the
 * cache caught up would cost two more writes and syncs whenever the cache is a step behind. Once the status asks
 * for another config, it changes anyway, and shows since when the ConfigMap has held what it holds.
 */
function configBehind(
  parent: MemcachedProxy,
  observedConfigMap: ConfigMap | undefined,
  mounted: string | undefined,
  reported: boolean,
  /** Since when this sync's config has been asked for (configSince): now, when the status asked for another. */
  since: string,
): { behind: ConfigBehind; shown: boolean } | undefined {
  const asked = parent.status?.configHash;
  if (asked === undefined || observedConfigMap === undefined) return undefined;
  const held = mounted === undefined ? undefined : configHash(mounted);
  if (held === asked) return undefined;
  const recorded = lastAppliedConfig(observedConfigMap);
  if (recorded !== undefined && configHash(recorded) === asked) return undefined;
  const before = parent.status?.configBehind;
  if (before !== undefined && before.configHash === held) return { behind: before, shown: true };
  return { behind: held === undefined ? { since } : { since, configHash: held }, shown: !reported };
}

/** The config.json of Metacontroller's last-applied copy of the ConfigMap, if it has one. */
function lastAppliedConfig(configMap: ConfigMap): string | undefined {
  const text = configMap.metadata.annotations?.[METACONTROLLER_LAST_APPLIED_ANNOTATION];
  if (text === undefined) return undefined;
  try {
    const data = (JSON.parse(text) as { data?: Record<string, unknown> } | null)?.data?.[CONFIG_KEY];
    return typeof data === 'string' ? data : undefined;
  } catch {
    return undefined;
  }
}
