/**
 * Names and labels of the children, composed in one place so that the selector never drifts. The parts the
 * API's schemas check against (the name suffix, the annotation prefix, the config directory, and the two
 * annotations the hook reads back from its children) are defined there, the config's key by the mcrouter
 * config reader that the CLI shares; the core imports them all from here.
 */
import { CONFIG_DIR, MCROUTER_SUFFIX } from '../api/cel-rules.js';
import { ANNOTATION_PREFIX, type MemcachedProxy } from '../api/memcached-proxy.js';
import { CONFIG_KEY } from '../mcrouter/config-source.js';
import { LAST_CHANGE_ANNOTATION, SPEC_HASH_ANNOTATION } from '../api/kubernetes.js';

const MANAGED_BY = 'memcached-operator';
export { CONFIG_DIR, CONFIG_KEY, LAST_CHANGE_ANNOTATION, SPEC_HASH_ANNOTATION };
export const CONFIG_PATH = `${CONFIG_DIR}/${CONFIG_KEY}`;
export const CONFIG_HASH_ANNOTATION = `${ANNOTATION_PREFIX}config-hash`;
/** The ConfigMap key that names each pool's Service and port (current-lists.ts). */
export const POOLS_KEY = 'pools.json';

type Parent = Pick<MemcachedProxy, 'metadata'>;

/** ConfigMap, Deployment and PodDisruptionBudget share this name. */
export const mcrouterName = (parent: Parent): string => `${parent.metadata.name}${MCROUTER_SUFFIX}`;
/** The Service clients connect to carries the proxy's own name. */
export const proxyServiceName = (parent: Parent): string => parent.metadata.name;

/** The pod selector: never changes over a proxy's life (a Deployment's selector is immutable). */
export const selectorLabels = (parent: Parent): Record<string, string> => ({
  'app.kubernetes.io/name': 'mcrouter',
  'app.kubernetes.io/instance': parent.metadata.name,
});

/**
 * Added to the selector's object, not spread into a new one: V8 builds a
 * spread followed by more keys on a slow path, and a sync builds these four times.
 */
export const childLabels = (parent: Parent): Record<string, string> => {
  const labels = selectorLabels(parent);
  labels['app.kubernetes.io/component'] = 'proxy';
  labels['app.kubernetes.io/managed-by'] = MANAGED_BY;
  return labels;
};
