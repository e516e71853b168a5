/**
 * The rules the CRD enforces with CEL (api CEL_RULES) and the one it cannot
 * (a service in another namespace: CEL cannot read metadata.namespace),
 * checked by the hook so that a spec that bypassed the API server is refused
 * with the field's path instead of being half applied.
 */
import { CEL_RULES, MAX_RULE_DEPTH, type MemcachedProxy, type Rule } from '../api/memcached-proxy.js';

export class SpecError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
    this.name = 'SpecError';
  }
}

type RuleLike = Omit<Rule, 'children'> & { children?: RuleLike[] };

/** Throws a SpecError naming the first offending field. */
export function checkSpec(parent: MemcachedProxy): void {
  const { spec, metadata } = parent;
  if ((spec.serviceName === undefined) === (spec.rules === undefined)) throw new SpecError('spec', CEL_RULES.oneForm.message);
  if (spec.servicePort !== undefined && spec.serviceName === undefined) {
    throw new SpecError('spec', CEL_RULES.servicePortWithName.message);
  }
  const visit = (rule: RuleLike, path: string, level: number): void => {
    if ((rule.service === undefined) === (rule.children === undefined)) throw new SpecError(path, CEL_RULES.serviceOrChildren.message);
    if (level === MAX_RULE_DEPTH && rule.children !== undefined) throw new SpecError(path, CEL_RULES.leafAtDeepest.message);
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
