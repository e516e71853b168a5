/**
 * The API server's built-in validation of the kinds the operator writes (pkg/apis/core/validation, apps/validation,
 * policy/validation) that the OpenAPI schemas (kubernetes-models) do not carry: names, port ranges, container
 * names, a Deployment's selector against its template's labels, a PodDisruptionBudget's int-or-percent, a
 * ConfigMap's size. The schemas type `port` as int32, so a Service port 70000, a nameless Service or a pod
 * without containers pass them; the API server refuses each. Empty: nothing of these refused.
 */
import {
  DNS1035_LABEL,
  DNS1123_LABEL,
  DNS1123_SUBDOMAIN,
  DNS_LABEL_MAX_LENGTH,
  DNS_NAME_MAX_LENGTH,
  LABEL_VALUE,
  LABEL_VALUE_MAX_LENGTH,
  PORT_MAX,
  QUALIFIED_NAME_PART,
  QUALIFIED_NAME_PART_MAX_LENGTH,
} from '../../src/api/formats.js';
import { SelectionError, selectorMatches, type LabelSelector } from './related-selection.js';

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const DNS_LABEL = new RegExp(DNS1123_LABEL);
const DNS_1035_LABEL = new RegExp(DNS1035_LABEL);
const DNS_SUBDOMAIN = new RegExp(DNS1123_SUBDOMAIN);
const LABEL_VALUE_PATTERN = new RegExp(LABEL_VALUE);
const QUALIFIED_NAME = new RegExp(QUALIFIED_NAME_PART);
const CONFIG_KEY = /^[-._a-zA-Z0-9]+$/;

const dnsLabel = (s: unknown): boolean => typeof s === 'string' && s.length <= DNS_LABEL_MAX_LENGTH && DNS_LABEL.test(s);
const dnsSubdomain = (s: unknown): boolean => typeof s === 'string' && s.length <= DNS_NAME_MAX_LENGTH && DNS_SUBDOMAIN.test(s);
/** IsValidPortName (IANA_SVC_NAME): at most 15, lower-case alphanumerics and '-', a letter, no '--', no '-' at either end. */
const ianaName = (s: unknown): boolean =>
  typeof s === 'string' && s.length >= 1 && s.length <= 15 && /^[-a-z0-9]+$/.test(s) && /[a-z]/.test(s) && !s.includes('--') && !s.startsWith('-') && !s.endsWith('-');
const portNumber = (n: unknown): boolean => typeof n === 'number' && Number.isInteger(n) && n >= 1 && n <= PORT_MAX;

function qualifiedKey(key: string): boolean {
  const slash = key.indexOf('/');
  const [prefix, name] = slash < 0 ? [undefined, key] : [key.slice(0, slash), key.slice(slash + 1)];
  if (prefix !== undefined && !dnsSubdomain(prefix)) return false;
  return name.length <= QUALIFIED_NAME_PART_MAX_LENGTH && QUALIFIED_NAME.test(name);
}

function labelFaults(labels: unknown, where: string): string[] {
  if (labels === undefined) return [];
  if (!isObject(labels)) return [`${where}: not a map`];
  return Object.entries(labels).flatMap(([k, v]) => [
    ...(qualifiedKey(k) ? [] : [`${where}: key ${JSON.stringify(k)} is not a qualified name`]),
    ...(typeof v === 'string' && v.length <= LABEL_VALUE_MAX_LENGTH && LABEL_VALUE_PATTERN.test(v) ? [] : [`${where}.${k}: value ${JSON.stringify(v)} is not a label value`]),
  ]);
}

function metadataFaults(object: Json, nameIs: (s: unknown) => boolean, nameKind: string): string[] {
  const meta = object['metadata'];
  if (!isObject(meta)) return ['metadata: required'];
  const out: string[] = [];
  if (meta['name'] === undefined || meta['name'] === '') out.push('metadata.name: required');
  else if (!nameIs(meta['name'])) out.push(`metadata.name ${JSON.stringify(meta['name'])}: not a ${nameKind}`);
  if (meta['namespace'] !== undefined && !dnsLabel(meta['namespace'])) out.push(`metadata.namespace ${JSON.stringify(meta['namespace'])}: not a DNS label`);
  out.push(...labelFaults(meta['labels'], 'metadata.labels'));
  if (meta['annotations'] !== undefined) {
    if (!isObject(meta['annotations'])) out.push('metadata.annotations: not a map');
    else for (const k of Object.keys(meta['annotations'])) if (!qualifiedKey(k.toLowerCase())) out.push(`metadata.annotations: key ${JSON.stringify(k)} is not a qualified name`);
  }
  return out;
}

function podSpecFaults(spec: unknown, where: string): string[] {
  if (!isObject(spec)) return [`${where}: required`];
  const out: string[] = [];
  const containers = Array.isArray(spec['containers']) ? (spec['containers'] as Json[]) : [];
  const init = Array.isArray(spec['initContainers']) ? (spec['initContainers'] as Json[]) : [];
  if (containers.length === 0) out.push(`${where}.containers: at least one container is required`);
  const volumes = new Set<string>();
  for (const v of (spec['volumes'] as Json[] | undefined) ?? []) {
    const name = v['name'];
    if (!dnsLabel(name)) out.push(`${where}.volumes: name ${JSON.stringify(name)} is not a DNS label`);
    else if (volumes.has(name as string)) out.push(`${where}.volumes: ${String(name)} twice`);
    volumes.add(name as string);
  }
  const names = new Set<string>();
  for (const [i, c] of [...init, ...containers].entries()) {
    const cw = `${where}.containers[${String(c['name'] ?? i)}]`;
    if (!dnsLabel(c['name'])) out.push(`${cw}: name ${JSON.stringify(c['name'])} is not a DNS label`);
    else if (names.has(c['name'] as string)) out.push(`${cw}: name used twice`);
    names.add(c['name'] as string);
    if (typeof c['image'] !== 'string' || c['image'].trim() === '') out.push(`${cw}: image required`);
    const portNames = new Set<string>();
    for (const p of (c['ports'] as Json[] | undefined) ?? []) {
      if (!portNumber(p['containerPort'])) out.push(`${cw}: containerPort ${JSON.stringify(p['containerPort'])} not in 1-65535`);
      if (p['hostPort'] !== undefined && p['hostPort'] !== 0 && !portNumber(p['hostPort'])) out.push(`${cw}: hostPort ${JSON.stringify(p['hostPort'])} not in 1-65535`);
      if (p['name'] !== undefined) {
        if (!ianaName(p['name'])) out.push(`${cw}: port name ${JSON.stringify(p['name'])} is not an IANA service name`);
        else if (portNames.has(p['name'] as string)) out.push(`${cw}: port name ${String(p['name'])} twice`);
        portNames.add(p['name'] as string);
      }
    }
    for (const m of (c['volumeMounts'] as Json[] | undefined) ?? []) {
      if (!volumes.has(m['name'] as string)) out.push(`${cw}: volumeMount ${JSON.stringify(m['name'])} names no volume`);
      if (typeof m['mountPath'] !== 'string' || m['mountPath'] === '') out.push(`${cw}: volumeMount ${JSON.stringify(m['name'])} without mountPath`);
    }
    for (const probe of ['livenessProbe', 'readinessProbe', 'startupProbe']) {
      const action = isObject(c[probe]) ? ((c[probe] as Json)['httpGet'] ?? (c[probe] as Json)['tcpSocket'] ?? (c[probe] as Json)['grpc']) : undefined;
      const port = isObject(action) ? action['port'] : undefined;
      if (port === undefined) continue;
      // A named port must also be one of the container's: the API server checks only its form, and the kubelet fails the probe.
      if (typeof port === 'number' ? !portNumber(port) : !(ianaName(port) && portNames.has(port as string))) out.push(`${cw}: ${probe} port ${JSON.stringify(port)} is neither 1-65535 nor a named port of the container`);
    }
  }
  return out;
}

const intOrPercent = (v: unknown): boolean => (typeof v === 'number' && Number.isInteger(v) && v >= 0) || (typeof v === 'string' && /^\d+%$/.test(v));

/** What the API server's built-in validation refuses of `object` (of the kinds the operator writes); empty: none. */
export function apiSemanticFaults(object: Json): string[] {
  const spec = isObject(object['spec']) ? object['spec'] : {};
  switch (`${String(object['apiVersion'])}/${String(object['kind'])}`) {
    case 'v1/ConfigMap': {
      const out = metadataFaults(object, dnsSubdomain, 'DNS subdomain');
      let size = 0;
      for (const field of ['data', 'binaryData']) {
        for (const [k, v] of Object.entries((object[field] as Json | undefined) ?? {})) {
          if (!(k.length <= DNS_NAME_MAX_LENGTH && CONFIG_KEY.test(k))) out.push(`${field}: key ${JSON.stringify(k)} is not a config key`);
          size += k.length + Buffer.byteLength(String(v));
        }
      }
      if (size > 1024 * 1024) out.push(`data: ${size} bytes, more than a ConfigMap's 1 MiB`);
      return out;
    }
    case 'v1/Service': {
      const out = metadataFaults(object, (s) => typeof s === 'string' && s.length <= DNS_LABEL_MAX_LENGTH && DNS_1035_LABEL.test(s), 'DNS-1035 label');
      const ports = (spec['ports'] as Json[] | undefined) ?? [];
      if (ports.length === 0 && spec['type'] !== 'ExternalName' && spec['clusterIP'] !== 'None') out.push('spec.ports: required');
      const seen = new Set<string>();
      const names = new Set<string>();
      for (const p of ports) {
        const label = `spec.ports[${String(p['name'] ?? p['port'])}]`;
        if (!portNumber(p['port'])) out.push(`${label}: port ${JSON.stringify(p['port'])} not in 1-65535`);
        const target = p['targetPort'];
        if (target !== undefined && !(typeof target === 'number' ? portNumber(target) : ianaName(target))) out.push(`${label}: targetPort ${JSON.stringify(target)} is neither 1-65535 nor an IANA service name`);
        if (p['nodePort'] !== undefined && !portNumber(p['nodePort'])) out.push(`${label}: nodePort ${JSON.stringify(p['nodePort'])} not in 1-65535`);
        if (ports.length > 1 && p['name'] === undefined) out.push(`${label}: name required with more than one port`);
        if (p['name'] !== undefined) {
          if (!dnsLabel(p['name'])) out.push(`${label}: name ${JSON.stringify(p['name'])} is not a DNS label`);
          if (names.has(p['name'] as string)) out.push(`${label}: name used twice`);
          names.add(p['name'] as string);
        }
        const key = `${String(p['port'])}/${String(p['protocol'] ?? 'TCP')}`;
        if (seen.has(key)) out.push(`${label}: port/protocol ${key} twice`);
        seen.add(key);
      }
      out.push(...labelFaults(spec['selector'], 'spec.selector'));
      return out;
    }
    case 'apps/v1/Deployment': {
      const out = metadataFaults(object, dnsSubdomain, 'DNS subdomain');
      if (spec['replicas'] != null && !(typeof spec['replicas'] === 'number' && spec['replicas'] >= 0)) out.push(`spec.replicas ${JSON.stringify(spec['replicas'])}: negative`);
      const selector = spec['selector'];
      const template = isObject(spec['template']) ? spec['template'] : {};
      const labels = ((template['metadata'] as Json | undefined)?.['labels'] ?? {}) as Record<string, string>;
      out.push(...labelFaults(labels, 'spec.template.metadata.labels'));
      if (!isObject(selector) || (Object.keys((selector['matchLabels'] as Json | undefined) ?? {}).length === 0 && ((selector['matchExpressions'] as unknown[] | undefined) ?? []).length === 0)) {
        out.push('spec.selector: empty (a Deployment must select its pods)');
      } else {
        out.push(...labelFaults(selector['matchLabels'], 'spec.selector.matchLabels'));
        try {
          if (!selectorMatches(selector as LabelSelector, labels)) out.push(`spec.selector ${JSON.stringify(selector)} does not match the template's labels ${JSON.stringify(labels)}`);
        } catch (error) {
          if (!(error instanceof SelectionError)) throw error;
          out.push(`spec.selector: ${error.message}`);
        }
      }
      out.push(...podSpecFaults(template['spec'], 'spec.template.spec'));
      return out;
    }
    case 'policy/v1/PodDisruptionBudget': {
      const out = metadataFaults(object, dnsSubdomain, 'DNS subdomain');
      const min = spec['minAvailable'];
      const max = spec['maxUnavailable'];
      if (min !== undefined && max !== undefined) out.push('spec: minAvailable and maxUnavailable both set');
      for (const [field, v] of [['minAvailable', min], ['maxUnavailable', max]] as const) {
        if (v !== undefined && !intOrPercent(v)) out.push(`spec.${field} ${JSON.stringify(v)}: neither a non-negative integer nor a percentage`);
        if (typeof v === 'string' && /^\d+%$/.test(v) && Number.parseInt(v, 10) > 100) out.push(`spec.${field} ${v}: over 100%`);
      }
      if (spec['selector'] !== undefined && isObject(spec['selector'])) out.push(...labelFaults(spec['selector']['matchLabels'], 'spec.selector.matchLabels'));
      return out;
    }
    default:
      return [];
  }
}
