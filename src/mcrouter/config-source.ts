/**
 * Finding an mcrouter config in the documents people have at hand: the
 * config.json itself, the ConfigMap that mounts it, a hook response (as in
 * the repository's hooks/*.response.json) listing that ConfigMap among its
 * children, or a sync request holding it among the observed children.
 */
import { parseConfigText } from './config-text.js';
import { McrouterConfigError, isObject, type Json } from './route-compiler.js';

/** The key of the operator's ConfigMap that holds config.json (kept free of the API's modules: the CLI loads this). */
export const CONFIG_KEY = 'config.json';

function fromConfigMap(configMap: Json): unknown {
  const text = isObject(configMap.data) ? configMap.data[CONFIG_KEY] : undefined;
  if (typeof text !== 'string') {
    throw new McrouterConfigError(`ConfigMap has no data["${CONFIG_KEY}"]`);
  }
  try {
    return parseConfigText(text);
  } catch (error) {
    throw new McrouterConfigError(`ConfigMap data["${CONFIG_KEY}"] is not JSON: ${(error as Error).message}`);
  }
}

/**
 * The parsed mcrouter config in `document`: a config (`{pools, route}`), a
 * ConfigMap with `data["config.json"]`, or a hook response `{children}`,
 * Kubernetes List `{items}` or sync request (its observed `children`, by type
 * and then by name) holding exactly one such ConfigMap.
 */
export function findMcrouterConfig(document: unknown): unknown {
  if (!isObject(document)) throw new McrouterConfigError('not a JSON object');
  if (document.kind === 'ConfigMap') return fromConfigMap(document);
  const objects = objectsIn(document);
  if (objects) {
    const configMaps = objects.filter(
      (o): o is Json => isObject(o) && o.kind === 'ConfigMap' && isObject(o.data) && CONFIG_KEY in o.data,
    );
    if (configMaps.length !== 1) {
      throw new McrouterConfigError(`expected one ConfigMap with data["${CONFIG_KEY}"] among the objects, found ${configMaps.length}`);
    }
    return fromConfigMap(configMaps[0]!);
  }
  if ('route' in document || 'routes' in document || 'pools' in document) return document;
  throw new McrouterConfigError('neither an mcrouter config, a ConfigMap, nor a hook response');
}

/** The Kubernetes objects a document lists, if it lists any: a hook response's, a List's, a sync request's observed children. */
function objectsIn(document: Json): unknown[] | undefined {
  if (Array.isArray(document.children)) return document.children;
  if (Array.isArray(document.items)) return document.items;
  // A sync request's children: by type, then by name (v1) or namespace/name (v2).
  if (isObject(document.children)) return Object.values(document.children).flatMap((byName) => (isObject(byName) ? Object.values(byName) : []));
  return undefined;
}
