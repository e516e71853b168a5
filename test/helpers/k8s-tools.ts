/**
 * Renders the install manifests with the real tools: `kubectl kustomize` and
 * `helm template`, from .tools/bin (put there by scripts/k8s-tools.sh, which
 * CI runs before the tests). A missing binary is an error, never a skip.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const TOOLS_BIN = join(ROOT, '.tools', 'bin');
export const CHART = join(ROOT, 'charts', 'memcached-operator');
export const KUSTOMIZE_DIR = join(ROOT, 'metacontroller');
export const EXAMPLES_DIR = join(ROOT, 'metacontroller', 'examples');
/** The release name and namespace under which helm renders what kustomize renders. */
export const RELEASE = 'memcached-operator';
export const NAMESPACE = 'memcached-operator';

export type K8sObject = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [key: string]: unknown;
};

export function toolPath(name: 'helm' | 'kubectl' | 'promtool'): string {
  const path = join(TOOLS_BIN, name);
  if (!existsSync(path)) {
    throw new Error(`${path} is missing: run \`bash scripts/k8s-tools.sh\` first (npm test's pretest does)`);
  }
  return path;
}

/** The tool's standard output; `input`, when given, is its standard input. */
export function run(tool: 'helm' | 'kubectl' | 'promtool', args: string[], input?: string): string {
  return execFileSync(toolPath(tool), args, {
    cwd: ROOT,
    encoding: 'utf8',
    input,
    stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    // No cluster and no user config: rendering must work offline and the same everywhere.
    env: {
      PATH: process.env.PATH ?? '',
      HOME: join(ROOT, '.tools', 'home'),
      KUBECONFIG: join(ROOT, '.tools', 'home', 'no-kubeconfig'),
      HELM_CACHE_HOME: join(ROOT, '.tools', 'home', 'cache'),
      HELM_CONFIG_HOME: join(ROOT, '.tools', 'home', 'config'),
      HELM_DATA_HOME: join(ROOT, '.tools', 'home', 'data'),
    },
  });
}

/** Every non-empty YAML document of a multi-document stream, as plain objects. */
export function parseObjects(text: string): K8sObject[] {
  return parseAllDocuments(text)
    .map((doc) => {
      if (doc.errors.length > 0) throw new Error(`bad YAML: ${doc.errors.map((e) => e.message).join('; ')}`);
      return doc.toJS() as K8sObject | null;
    })
    .filter((o): o is K8sObject => o !== null && o !== undefined);
}

export const kustomize = (dir: string = KUSTOMIZE_DIR): K8sObject[] => parseObjects(run('kubectl', ['kustomize', dir]));

export const helmTemplate = (...extra: string[]): K8sObject[] =>
  parseObjects(run('helm', ['template', RELEASE, CHART, '--namespace', NAMESPACE, ...extra]));

export const readObjects = (path: string): K8sObject[] => parseObjects(readFileSync(path, 'utf8'));

export const keyOf = (o: K8sObject): string => `${o.apiVersion}/${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`;
