/**
 * The rules the CRD enforces with CEL (api/cel-rules.ts) but the tolerations' (a pod
 * template fault: core/pod-template-check.ts), and the one it cannot
 * (a service in another namespace: CEL cannot read metadata.namespace),
 * checked by the hook so that a spec that bypassed the API server is refused
 * with the field's path instead of being half applied.
 */
import {
  CEL_RULES,
  CONFIG_DIR_OVERLAP,
  DOT_SEGMENT,
  MAX_NAME_LENGTH,
  MAX_RULE_DEPTH,
  SYSTEM_DIR,
} from '../api/cel-rules.js';
import { exporterPortOf, mcrouterPortOf } from '../api/defaults.js';
import type { MemcachedProxy, AnyRule } from '../api/memcached-proxy.js';
import { DNS1035_LABEL } from '../api/formats.js';
import { proxyServiceName } from './naming.js';

export class SpecError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    // A message that begins with its own field (the CEL rules kubectl shows under an object above the field:
    // metadata.name under the root, statsRoot and the exporter's port under spec.mcrouter, so their messages
    // name the field; a refusal of the CRD's schema, http/validation-error.ts) is not prefixed with it again.
    super(message.startsWith(`${field} `) || message.startsWith(`${field}: `) ? message : `${field}: ${message}`);
    this.name = 'SpecError';
  }
}

const PROXY_NAME = new RegExp(DNS1035_LABEL);
const OVERLAPS_CONFIG_DIR = new RegExp(CONFIG_DIR_OVERLAP);
const HAS_DOT_SEGMENT = new RegExp(DOT_SEGMENT);
const IN_SYSTEM_DIR = new RegExp(SYSTEM_DIR);

/** Throws a SpecError naming the first offending field. */
export function checkSpec(parent: Pick<MemcachedProxy, 'metadata' | 'spec'>): void {
  const { spec, metadata } = parent;
  if (metadata.name.length > MAX_NAME_LENGTH || !PROXY_NAME.test(metadata.name)) throw new SpecError('metadata.name', CEL_RULES.proxyName.message);
  if ((spec.serviceName === undefined) === (spec.rules === undefined)) throw new SpecError('spec', CEL_RULES.oneForm.message);
  if (spec.servicePort !== undefined && spec.serviceName === undefined) {
    throw new SpecError('spec', CEL_RULES.servicePortWithName.message);
  }
  const mcrouter = spec.mcrouter;
  if (mcrouter?.exporter?.enabled && exporterPortOf(mcrouter.exporter) === mcrouterPortOf(mcrouter)) {
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
  const visit = (rule: AnyRule, path: string, level: number): void => {
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
  if (spec.rules) visit(spec.rules, 'spec.rules', 1);
}
