/**
 * The routing topology a spec asks for, normalised: both spec forms become
 * one tree of groups over leaves, each leaf a (service, port) pair that owns
 * one mcrouter pool.
 */
import { DEFAULTS } from '../api/defaults.js';
import {
  V002_UNSET,
  type Hash,
  type MemcachedProxySpec,
  type ReadPolicy,
  type AnyRule,
  type RuleType,
  type WritePolicy,
} from '../api/memcached-proxy.js';

export type PortRef = number | string;

interface Policies {
  type: RuleType;
  hash: Hash;
  writePolicy: WritePolicy;
  readPolicy: ReadPolicy;
}

/** One Service's endpoints on one port: one pool. */
export interface PoolRef {
  /** The pool's name in config.json: the service, or `service-port` when one service is used on two ports. */
  name: string;
  service: string;
  port: PortRef;
}

export interface LeafNode extends Policies {
  kind: 'leaf';
  pool: PoolRef;
}

export interface GroupNode extends Policies {
  kind: 'group';
  children: RouteNode[];
}

export type RouteNode = LeafNode | GroupNode;

export interface Topology {
  root: RouteNode;
  /** Distinct pools in first-use order: a service used twice on one port is one pool. */
  pools: PoolRef[];
}

/** A pool per port as written: `11211` and `memcache` are two pools, whatever the Service says (docs/topologies.md). */
export const poolKey = (service: string, port: PortRef): string => `${service}\u0000${typeof port}:${port}`;

/** A leaf's port; unset, or 0 as v0.0.2 stored it, is the default. */
const portOf = (service: NonNullable<AnyRule['service']>): PortRef =>
  service.port === undefined || service.port === V002_UNSET.servicePort ? DEFAULTS.servicePort : service.port;

export function topologyOf(spec: MemcachedProxySpec): Topology {
  const rule: AnyRule = spec.rules ?? {
    service: { name: spec.serviceName ?? '', port: spec.servicePort ?? DEFAULTS.servicePort },
  };

  const refs = new Map<string, PoolRef>();
  const portsByService = new Map<string, Set<string>>();
  const collect = (r: AnyRule): void => {
    if (r.service) {
      const port = portOf(r.service);
      const key = poolKey(r.service.name, port);
      if (!refs.has(key)) refs.set(key, { name: r.service.name, service: r.service.name, port });
      const ports = portsByService.get(r.service.name) ?? new Set();
      ports.add(key);
      portsByService.set(r.service.name, ports);
    }
    r.children?.forEach(collect);
  };
  collect(rule);
  nameByPort(refs.values(), portsByService);

  const build = (r: AnyRule): RouteNode => {
    // Unset, or "" as v0.0.2 stored it.
    const type = r.type === undefined || r.type === V002_UNSET.ruleType ? DEFAULTS.ruleType : r.type;
    const hash = r.hash ?? DEFAULTS.hash;
    const writePolicy = r.writePolicy ?? DEFAULTS.writePolicy;
    const readPolicy = r.readPolicy ?? DEFAULTS.readPolicy;
    if (r.service) {
      const pool = refs.get(poolKey(r.service.name, portOf(r.service)))!;
      return { kind: 'leaf', type, hash, writePolicy, readPolicy, pool };
    }
    return { kind: 'group', type, hash, writePolicy, readPolicy, children: (r.children ?? []).map(build) };
  };
  return { root: build(rule), pools: [...refs.values()] };
}

/**
 * A pool is named after its service; a service used with two ports gets
 * `SERVICE-PORT` for each. Should that name be another service's (service
 * `m` on ports 1 and 2 beside a service named `m-1`), a counter makes it
 * unique: two pools under one name would merge their servers.
 */
function nameByPort(refs: Iterable<PoolRef>, portsByService: ReadonlyMap<string, ReadonlySet<string>>): void {
  const list = [...refs];
  const taken = new Set(list.filter((r) => (portsByService.get(r.service)?.size ?? 0) <= 1).map((r) => r.name));
  for (const ref of list) {
    if ((portsByService.get(ref.service)?.size ?? 0) <= 1) continue;
    let name = `${ref.service}-${ref.port}`;
    for (let n = 2; taken.has(name); n++) name = `${ref.service}-${ref.port}-${n}`;
    taken.add(name);
    ref.name = name;
  }
}
