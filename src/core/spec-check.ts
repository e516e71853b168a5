/**
 * The rules the CRD enforces with CEL (api CEL_RULES) and the one it cannot
 * (a service in another namespace: CEL cannot read metadata.namespace),
 * checked by the hook so that a spec that bypassed the API server is refused
 * with the field's path instead of being half applied.
 */
import {
  CEL_RULES,
  CONFIG_DIR_OVERLAP,
  DEFAULTS,
  DOT_SEGMENT,
  DNS1035_LABEL,
  MAX_NAME_LENGTH,
  MAX_RULE_DEPTH,
  SYSTEM_DIR,
  type MemcachedProxy,
  type Rule,
} from '../api/memcached-proxy.js';
import { proxyServiceName } from './naming.js';
import { topologyOf, type PoolRef, type RouteNode } from './topology.js';

export class SpecError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    // A message that begins with its own field (the CEL rules kubectl shows under an object above the field:
    // metadata.name under the root, statsRoot and the exporter's port under spec.mcrouter, so their messages
    // name the field) is not prefixed with it again.
    super(message.startsWith(`${field} `) ? message : `${field}: ${message}`);
    this.name = 'SpecError';
  }
}

type RuleLike = Omit<Rule, 'children'> & { children?: RuleLike[] };

const PROXY_NAME = new RegExp(DNS1035_LABEL);
const OVERLAPS_CONFIG_DIR = new RegExp(CONFIG_DIR_OVERLAP);
const HAS_DOT_SEGMENT = new RegExp(DOT_SEGMENT);
const IN_SYSTEM_DIR = new RegExp(SYSTEM_DIR);

/** Throws a SpecError naming the first offending field. */
export function checkSpec(parent: MemcachedProxy): void {
  const { spec, metadata } = parent;
  if (metadata.name.length > MAX_NAME_LENGTH || !PROXY_NAME.test(metadata.name)) throw new SpecError('metadata.name', CEL_RULES.proxyName.message);
  if ((spec.serviceName === undefined) === (spec.rules === undefined)) throw new SpecError('spec', CEL_RULES.oneForm.message);
  if (spec.servicePort !== undefined && spec.serviceName === undefined) {
    throw new SpecError('spec', CEL_RULES.servicePortWithName.message);
  }
  const mcrouter = spec.mcrouter;
  if (mcrouter?.exporter?.enabled && (mcrouter.exporter.port ?? DEFAULTS.exporterPort) === (mcrouter.port ?? DEFAULTS.mcrouterPort)) {
    throw new SpecError('spec.mcrouter.exporter.port', CEL_RULES.exporterPort.message);
  }
  const statsRoot = mcrouter?.statsRoot;
  if (statsRoot !== undefined && (OVERLAPS_CONFIG_DIR.test(statsRoot) || HAS_DOT_SEGMENT.test(statsRoot))) {
    throw new SpecError('spec.mcrouter.statsRoot', CEL_RULES.statsRoot.message);
  }
  if (statsRoot !== undefined && IN_SYSTEM_DIR.test(statsRoot)) throw new SpecError('spec.mcrouter.statsRoot', CEL_RULES.statsRootSystemDir.message);
  // The CRD's rule compares with metadata.name, as CEL must; here the name comes from where the children get it.
  const ownService = (service: string | undefined, field: string) => {
    if (service === proxyServiceName(parent)) throw new SpecError(field, CEL_RULES.ownServiceName.message);
  };
  ownService(spec.serviceName, 'spec.serviceName');
  const visit = (rule: RuleLike, path: string, level: number): void => {
    if ((rule.service === undefined) === (rule.children === undefined)) throw new SpecError(path, CEL_RULES.serviceOrChildren.message);
    if (level === MAX_RULE_DEPTH && rule.children !== undefined) throw new SpecError(path, CEL_RULES.leafAtDeepest.message);
    ownService(rule.service?.name, `${path}.service.name`);
    const ns = rule.service?.namespace;
    if (ns !== undefined && ns !== '' && ns !== metadata.namespace) {
      throw new SpecError(
        `${path}.service.namespace`,
        `must be the proxy's own namespace ${JSON.stringify(metadata.namespace)}: a proxy never reads another namespace's endpoints`,
      );
    }
    rule.children?.forEach((child, i) => visit(child, `${path}.children[${i}]`, level + 1));
  };
  if (spec.rules) {
    visit(spec.rules, 'spec.rules', 1);
    checkReplicas(topologyOf(spec).root, 'spec.rules');
  }
}

/**
 * A replicated rule writes each key to every child. Two children that reach one pool by different routes (a
 * Ch3 and a Crc32 leaf of one Service, a sharded and a replicated one, two sharded groups that share a
 * Service) would send some writes to one of its servers twice: an incr counted twice, an add refused, a
 * delete answered NOT_FOUND. Children that route alike are one replica (the config lists them once).
 */
function checkReplicas(root: RouteNode, rootPath: string): void {
  /** What a node routes to, and how, as one string: equal strings are equal routes. */
  const visit = (node: RouteNode, path: string): { route: string; pools: Map<string, PoolRef> } => {
    const how = `${node.type}(${node.type === 'replicated' ? `${node.writePolicy},${node.readPolicy}` : node.hash})`;
    if (node.kind === 'leaf') return { route: `${how}${node.pool.name}`, pools: new Map([[node.pool.name, node.pool]]) };
    const children = node.children.map((child, i) => visit(child, `${path}.children[${i}]`));
    const pools = new Map<string, PoolRef>();
    const reachedBy = new Map<string, number>();
    children.forEach((child, i) => {
      for (const [name, ref] of child.pools) {
        const first = reachedBy.get(name);
        if (node.type === 'replicated' && first !== undefined && children[first]!.route !== child.route) {
          throw new SpecError(
            `${path}.children[${i}]`,
            `reaches Service ${ref.service} (port ${ref.port}) as ${path}.children[${first}] does, by another route: a replicated rule writes each key to every child, so some writes would reach one of its servers twice (an incr counted twice, an add refused); route both alike, or reach the Service from one of them`,
          );
        }
        if (first === undefined) reachedBy.set(name, i);
        pools.set(name, ref);
      }
    });
    return { route: `${how}[${children.map((c) => c.route).join(',')}]`, pools };
  };
  visit(root, rootPath);
}
