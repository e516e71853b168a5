/**
 * What the status records of the config the sync writes, and the ConfigMap carries of it: the last change of
 * its servers or route (`lastChange`, also as the ConfigMap's annotation), since when the status has reported
 * it (`configSince`), and since when the ConfigMap has been behind it (`configBehindSince`).
 */
import { METACONTROLLER_LAST_APPLIED_ANNOTATION, type ConfigMap } from '../api/kubernetes.js';
import type { LastChange, MemcachedProxy } from '../api/memcached-proxy.js';
import { laterChange, lastChangeAnnotation, lastChangeFromAnnotation, lastChangeOf, lostConfigChange } from './last-change.js';
import type { CurrentConfig, McrouterConfig } from './mcrouter-config.js';
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
  configBehindSince: string | undefined;
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

  // When the status first reported this config: carried while it does.
  const configSince = reported && parent.status?.configSince !== undefined ? parent.status.configSince : now;
  // Since when the ConfigMap has not taken the config the status reports, when it has not: neither the ConfigMap
  // nor Metacontroller's record of what it last applied there holds it, so the API server refused the update, or
  // Metacontroller's cache has yet to see it (a ConfigMap edited by hand still has the config in that record, and
  // is set back now). Metacontroller writes the status whether or not its children could be applied.
  const configBehindSince = !applied && reported && observedConfigMap && lastAppliedConfig(observedConfigMap) !== text ? configSince : undefined;
  return {
    applied,
    lastChange,
    lastChangeText: lastChange === recorded ? recordedText : lastChangeAnnotation(lastChange),
    configSince,
    configBehindSince,
  };
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
