/**
 * The install manifests: what `kubectl kustomize metacontroller/` and
 * `helm template` render validates against the Kubernetes OpenAPI schemas
 * (kubernetes-models), the CompositeController against Metacontroller's
 * documented fields, both installs give the same objects, the pieces point at
 * each other (hook URL, Service, ports, probes), and every pod meets the
 * restricted Pod Security Standard.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { Type, type TSchema } from 'typebox';
import { Compile } from 'typebox/compile';
import { parse as parseYaml } from 'yaml';
import { CustomResourceDefinition } from 'kubernetes-models/apiextensions.k8s.io/v1';
import { Deployment, StatefulSet } from 'kubernetes-models/apps/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { ClusterRole } from 'kubernetes-models/rbac.authorization.k8s.io/v1';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1';
import { Namespace, Service } from 'kubernetes-models/v1';
import { ServiceMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor';
import type { Container, PodSpec } from 'kubernetes-types/core/v1.js';
import { DEFAULT_SETTINGS, INTEGER_RANGES, LOG_LEVELS, defaultInFlightBodyLimit, settingsFromEnv } from '../src/settings.js';
import { DNS1035_LABEL, IMAGE_REFERENCE } from '../src/api/formats.js';
import { GROUP, PLURAL } from '../src/api/memcached-proxy.js';
import { CHART_ENV } from '../scripts/chart-values-schema.js';
import {
  CHART,
  EXAMPLES_DIR,
  KUSTOMIZE_DIR,
  NAMESPACE,
  ROOT,
  helmTemplate,
  keyOf,
  kustomize,
  run,
  type K8sObject,
} from './helpers/k8s-tools.js';
import { apiSemanticFaults } from './helpers/api-semantics.js';
import { podTemplatesOf, restrictedViolations } from './helpers/pod-security.js';
import { codeSpans, page, tableRows, wholeWord } from './helpers/markdown.js';

type Json = Record<string, unknown>;

const kustomized = kustomize();
const helmed = helmTemplate();
const examples = kustomize(EXAMPLES_DIR);
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
const chart = parseYaml(readFileSync(join(CHART, 'Chart.yaml'), 'utf8')) as { version: string; appVersion: string; apiVersion: string };

const byKind = (objects: K8sObject[], kind: string): K8sObject[] => objects.filter((o) => o.kind === kind);
const one = (objects: K8sObject[], kind: string): K8sObject => {
  const found = byKind(objects, kind);
  if (found.length !== 1) throw new Error(`expected one ${kind}, found ${found.length}`);
  return found[0] as K8sObject;
};
const podSpecOf = (deployment: K8sObject): PodSpec => (deployment as unknown as { spec: { template: { spec: PodSpec } } }).spec.template.spec;
const hookContainer = (deployment: K8sObject): Container => podSpecOf(deployment).containers[0] as Container;
const envOf = (c: Container): Record<string, string | undefined> => Object.fromEntries((c.env ?? []).map((e) => [e.name, e.value]));
/**
 * Whether a `matchLabels` selector picks objects labelled `labels` by labels of theirs: an empty one selects every
 * object (a NetworkPolicy's, a PodDisruptionBudget's, a ServiceMonitor's) or none (a Service's), never just these.
 */
const selectsByLabels = (selector: Record<string, string> | undefined, labels: Record<string, string>): boolean =>
  Object.keys(selector ?? {}).length > 0 && Object.entries(selector!).every(([k, v]) => labels[k] === v);
/** The variables `expected` names, as `env` has them: for t.strictSame, where t.match takes '600000' for '60000'. */
const envAs = (env: Record<string, string | undefined>, expected: Record<string, string>) => Object.fromEntries(Object.keys(expected).map((name) => [name, env[name]]));

/** The Kubernetes OpenAPI schemas, by apiVersion and kind. */
const MODELS: Record<string, { new (data: never): { validate(): void } }> = {
  'v1/Namespace': Namespace,
  'v1/Service': Service,
  'apps/v1/Deployment': Deployment,
  'apps/v1/StatefulSet': StatefulSet,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'apiextensions.k8s.io/v1/CustomResourceDefinition': CustomResourceDefinition,
  'monitoring.coreos.com/v1/ServiceMonitor': ServiceMonitor,
  'rbac.authorization.k8s.io/v1/ClusterRole': ClusterRole,
  'networking.k8s.io/v1/NetworkPolicy': NetworkPolicy,
};

/**
 * CompositeController (metacontroller.k8s.io/v1alpha1) has no published model:
 * its documented fields (Metacontroller's API reference and CRD), closed, so a
 * misspelt field fails here instead of being pruned silently by the API server.
 */
const closed = <T extends Record<string, TSchema>>(properties: T) => Type.Object(properties, { additionalProperties: false });
const Webhook = closed({
  url: Type.Optional(Type.String({ pattern: '^https?://' })),
  path: Type.Optional(Type.String()),
  timeout: Type.Optional(Type.String({ pattern: '^([0-9]+(\\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$' })),
  service: Type.Optional(
    closed({ name: Type.String(), namespace: Type.String(), port: Type.Optional(Type.Integer()), protocol: Type.Optional(Type.String()) }),
  ),
  etag: Type.Optional(
    closed({ enabled: Type.Optional(Type.Boolean()), cacheTimeoutSeconds: Type.Optional(Type.Integer()), cacheCleanupSeconds: Type.Optional(Type.Integer()) }),
  ),
});
const Hook = closed({ version: Type.Optional(Type.Union([Type.Literal('v1'), Type.Literal('v2')])), webhook: Webhook });
const CompositeControllerShape = closed({
  apiVersion: Type.Literal('metacontroller.k8s.io/v1alpha1'),
  kind: Type.Literal('CompositeController'),
  metadata: Type.Object({ name: Type.String({ minLength: 1 }), labels: Type.Optional(Type.Record(Type.String(), Type.String())) }),
  spec: closed({
    parentResource: closed({
      apiVersion: Type.String(),
      resource: Type.String(),
      revisionHistory: Type.Optional(closed({ fieldPaths: Type.Array(Type.String()) })),
    }),
    childResources: Type.Array(
      closed({
        apiVersion: Type.String(),
        resource: Type.String(),
        updateStrategy: Type.Optional(
          closed({
            method: Type.Union(['OnDelete', 'Recreate', 'InPlace', 'RollingRecreate', 'RollingInPlace'].map((m) => Type.Literal(m))),
            statusChecks: Type.Optional(Type.Object({})),
          }),
        ),
      }),
    ),
    resyncPeriodSeconds: Type.Optional(Type.Integer({ minimum: 1 })),
    generateSelector: Type.Optional(Type.Boolean()),
    hooks: closed({
      sync: Hook,
      customize: Type.Optional(Hook),
      finalize: Type.Optional(Hook),
      preUpdateChild: Type.Optional(Hook),
      postUpdateChild: Type.Optional(Hook),
    }),
  }),
});
const checkCompositeController = Compile(CompositeControllerShape);

interface HookWebhook {
  url?: string;
  path?: string;
  service?: { name: string; namespace: string; port?: number; protocol?: string };
}
/** The URL Metacontroller calls for a webhook (its documented rules: `url` wins; a service is PROTOCOL://NAME.NAMESPACE:PORT, http and 80 by default, then `path`). */
const hookUrl = (webhook: HookWebhook | undefined): string | undefined => {
  if (webhook?.url !== undefined) return webhook.url;
  const service = webhook?.service;
  return service && `${service.protocol ?? 'http'}://${service.name}.${service.namespace}:${service.port ?? 80}${webhook.path ?? ''}`;
};
/** The hook Service of an install, as a webhook service reference reaches it. */
const serviceUrl = (objects: K8sObject[]): string => {
  const service = one(objects, 'Service') as unknown as { metadata: { name: string; namespace: string }; spec: { ports: { port: number }[] } };
  return `http://${service.metadata.name}.${service.metadata.namespace}:${service.spec.ports[0]?.port}`;
};

function validateObject(t: Test, object: K8sObject, where: string) {
  const key = `${object.apiVersion}/${object.kind}`;
  if (object.kind === 'CompositeController') {
    const errors = [...checkCompositeController.Errors(object)].map((e) => JSON.stringify(e));
    t.same(errors, [], `${where}: ${key} ${object.metadata.name} has Metacontroller's shape`);
    return;
  }
  if (object.kind === 'MemcachedProxy') return; // manifests-crd.test.ts validates them against the CRD
  const Model = MODELS[key];
  if (!Model) {
    t.fail(`${where}: no schema to validate ${key} against`);
    return;
  }
  t.doesNotThrow(() => new Model(object as never).validate(), `${where}: ${key} ${object.metadata.name} is valid`);
  // The schemas type ports as int32 and require no name: the API server's built-in validation refuses more.
  t.same(apiSemanticFaults(object as unknown as Record<string, unknown>), [], `${where}: ${key} ${object.metadata.name} passes the API server's own validation`);
}

t.test('kustomize renders the operator', async (t) => {
  t.same(kustomized.map((o) => o.kind).sort(), [
    'ClusterRole',
    'ClusterRole',
    'CompositeController',
    'CustomResourceDefinition',
    'Deployment',
    'Namespace',
    'PodDisruptionBudget',
    'Service',
  ]);
  for (const o of kustomized) {
    if (['Namespace', 'CustomResourceDefinition', 'ClusterRole'].includes(o.kind)) t.equal(o.metadata.namespace, undefined, `${o.kind} is cluster-scoped`);
    // Cluster-scoped too: the namespace is there for kustomize's sake (kustomization.yaml), and the API server drops it.
    else if (o.kind === 'CompositeController') t.equal(o.metadata.namespace, NAMESPACE, 'CompositeController: the namespace kustomize needs');
    else t.equal(o.metadata.namespace, NAMESPACE, `${o.kind} is in ${NAMESPACE}`);
  }
  t.equal(one(kustomized, 'Namespace').metadata.name, NAMESPACE);
  t.equal(one(kustomized, 'Namespace').metadata.labels?.['pod-security.kubernetes.io/enforce'], 'restricted', 'the namespace enforces restricted');
});

t.test('the hook needs no RBAC: no ServiceAccount, Role or binding, no token', async (t) => {
  for (const objects of [kustomized, helmed]) {
    // The ClusterRoles are for people (below), and bound to nobody here.
    t.same(objects.filter((o) => /ServiceAccount|^Role|Binding/.test(o.kind)), []);
    const pod = podSpecOf(one(objects, 'Deployment'));
    t.equal(pod.automountServiceAccountToken, false);
    t.equal(pod.serviceAccountName, undefined);
  }
});

t.test('the chart\'s NetworkPolicy lets only Metacontroller\'s namespace, and the peers named, reach the hook pods\' port', async (t) => {
  t.same(byKind(helmed, 'NetworkPolicy'), [], 'none by default: it needs a network plugin that enforces it, and would cut a scraper not named');
  const objects = helmTemplate(
    '--set', 'networkPolicy.enabled=true',
    '--set', 'networkPolicy.metacontrollerNamespace=platform',
    '--set', 'networkPolicy.extraFrom[0].namespaceSelector.matchLabels.kubernetes\\.io/metadata\\.name=monitoring',
  );
  type Peer = { namespaceSelector?: { matchLabels: Record<string, string> } };
  const policy = one(objects, 'NetworkPolicy') as K8sObject & { spec: { podSelector: { matchLabels: Record<string, string> }; policyTypes: string[]; ingress: { from: Peer[]; ports: { port: string | number }[] }[] } };
  const deployment = one(objects, 'Deployment') as K8sObject & { spec: { template: { metadata: { labels: Record<string, string> } } } };
  const podLabels = deployment.spec.template.metadata.labels;
  t.ok(selectsByLabels(policy.spec.podSelector.matchLabels, podLabels), 'it selects the hook pods');
  t.same(policy.spec.policyTypes, ['Ingress'], 'ingress only: the hook makes no calls, and egress needs no rule');
  t.same(policy.spec.ingress.map((rule) => rule.from.map((peer) => peer.namespaceSelector?.matchLabels['kubernetes.io/metadata.name'])), [['platform', 'monitoring']], 'Metacontroller\'s namespace, by the label every namespace has, and the peers named');
  const httpPort = hookContainer(deployment).ports?.find((p) => p.containerPort === 8080)?.name;
  t.same(policy.spec.ingress[0]!.ports.map((p) => p.port), [httpPort], 'on the hook\'s port');
  validateObject(t, policy, 'helm with networkPolicy');
  const digits = one(helmTemplate('--set', 'networkPolicy.enabled=true', '--set-string', 'networkPolicy.metacontrollerNamespace=123'), 'NetworkPolicy') as typeof policy;
  t.equal(digits.spec.ingress[0]!.from[0]!.namespaceSelector?.matchLabels['kubernetes.io/metadata.name'], '123', 'a namespace named by digits stays a string: a label value is one');
  for (const [value, why] of [
    ['networkPolicy.metacontrollerNamespace=Meta_Controller', 'no namespace can have this name'],
    ['networkPolicy.extraFrom[0]=monitoring', 'a peer is an object'],
    ['networkPolicy.enable=true', 'a misspelt key'],
  ]) {
    t.throws(() => helmTemplate('--set', value!), /values don't meet the specifications of the schema/, `${value}: refused (${why})`);
  }
});

t.test('a chart value set to null (helm deletes the key before its schema check) is refused, or renders a hook that runs', async (t) => {
  const values = parseYaml(readFileSync(join(CHART, 'values.yaml'), 'utf8')) as Record<string, unknown>;
  const isMap = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
  // Every key of values.yaml, and those of its maps of settings (not of maps of user data such as podAnnotations).
  const keys = Object.entries(values).flatMap(([key, value]) =>
    isMap(value) && Object.keys(value).length > 0 && !['resources', 'podSecurityContext', 'securityContext'].includes(key)
      ? [key, ...Object.keys(value).map((k) => `${key}.${k}`)]
      : [key],
  );
  t.ok(keys.length > 40, `${keys.length} keys`);
  const refused: string[] = [];
  for (const key of keys) {
    // Each key with what turns it on, where it is read only then.
    const on = key.startsWith('networkPolicy.') ? ['--set', 'networkPolicy.enabled=true'] : key.startsWith('serviceMonitor.') ? ['--set', 'serviceMonitor.enabled=true'] : [];
    let objects: K8sObject[];
    try {
      objects = helmTemplate(...on, '--set', `${key}=null`);
    } catch (error) {
      t.match(String(error), /values don't meet the specifications of the schema/, `${key}=null: refused by the schema, not by a template`);
      refused.push(key);
      continue;
    }
    const where = `${key}=null`;
    for (const object of objects) validateObject(t, object, where);
    const deployment = one(objects, 'Deployment');
    const container = hookContainer(deployment);
    t.match(container.image, new RegExp(IMAGE_REFERENCE), `${where}: an image the kubelet can pull`);
    // The kubelet gives a variable without a value the empty string.
    const env = Object.fromEntries((container.env ?? []).filter((e) => !e.valueFrom).map((e) => [e.name, e.value ?? '']));
    t.doesNotThrow(() => settingsFromEnv(env), `${where}: the hook starts`);
    for (const budget of byKind(objects, 'PodDisruptionBudget') as (K8sObject & { spec: Record<string, unknown> })[]) {
      t.ok(budget.spec['maxUnavailable'] ?? budget.spec['minAvailable'], `${where}: the PDB says how many pods may go (the API server requires one)`);
    }
    for (const policy of byKind(objects, 'NetworkPolicy') as (K8sObject & { spec: { ingress: { from: { namespaceSelector?: { matchLabels?: Record<string, string> } }[] }[] } })[]) {
      const selectors = policy.spec.ingress.flatMap((rule) => rule.from).map((peer) => peer.namespaceSelector?.matchLabels?.['kubernetes.io/metadata.name']);
      t.ok(selectors[0], `${where}: the NetworkPolicy lets a namespace's Metacontroller in`);
    }
  }
  t.same(
    refused.sort(),
    ['bodyLimit', 'crds', 'crds.install', 'hookTimeout', 'image', 'image.repository', 'jsonDepthLimit', 'networkPolicy', 'networkPolicy.metacontrollerNamespace', 'podDisruptionBudget', 'podDisruptionBudget.enabled', 'podDisruptionBudget.maxUnavailable', 'requestTimeoutMs', 'resyncPeriodSeconds', 'serviceMonitor', 'shutdownDelayMs', 'shutdownTimeoutMs', 'userRoles', 'userRoles.aggregate'],
    'the values a hook cannot run without, or would run otherwise than said: a switch on by default turned off (null elsewhere is a default)',
  );
});

t.test('people get MemcachedProxies through the built-in roles: view reads them, edit and admin also write them', async (t) => {
  type Rule = { apiGroups: string[]; resources: string[]; verbs: string[] };
  const aggregation = (o: K8sObject) => Object.keys(o.metadata.labels ?? {}).filter((k) => k.startsWith('rbac.authorization.k8s.io/aggregate-to-')).map((k) => k.slice(k.lastIndexOf('-') + 1)).sort();
  for (const [where, objects, prefix] of [['kustomize', kustomized, 'memcached-operator'], ['helm', helmed, 'memcached-operator']] as const) {
    const roles = new Map(byKind(objects, 'ClusterRole').map((o) => [o.metadata.name, o as K8sObject & { rules: Rule[] }]));
    const view = roles.get(`${prefix}-view`);
    const edit = roles.get(`${prefix}-edit`);
    t.same(view?.rules, [{ apiGroups: [GROUP], resources: [PLURAL, `${PLURAL}/status`], verbs: ['get', 'list', 'watch'] }], `${where}: view reads proxies and their status`);
    t.same(edit?.rules, [{ apiGroups: [GROUP], resources: [PLURAL], verbs: ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete', 'deletecollection'] }], `${where}: edit reads and writes them (bound alone, kubectl apply reads first), not their status (Metacontroller's)`);
    t.same(aggregation(view!), ['admin', 'edit', 'view'], `${where}: whoever may view, edit or administer a namespace reads its proxies`);
    t.same(aggregation(edit!), ['admin', 'edit'], `${where}: only who may edit a namespace (and so run pods in it) writes them`);
  }
  const unaggregated = byKind(helmTemplate('--set', 'userRoles.aggregate=false'), 'ClusterRole');
  t.same(unaggregated.map((o) => [o.metadata.name, aggregation(o)]), [['memcached-operator-view', []], ['memcached-operator-edit', []]], 'userRoles.aggregate=false: the roles, for bindings of your own');
});

t.test('every object validates against the Kubernetes schemas', async (t) => {
  for (const o of kustomized) validateObject(t, o, 'kustomize');
  for (const o of helmed) validateObject(t, o, 'helm');
  for (const o of examples) validateObject(t, o, 'examples');
  const bad = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'x' }, spec: { replicas: 'two' } };
  t.throws(() => new Deployment(bad as never).validate(), 'and the models do refuse a bad object');
  t.not([...checkCompositeController.Errors({ ...one(kustomized, 'CompositeController'), spec: { parentResource: {}, hook: {} } })].length, 0, 'and the CompositeController check refuses a bad one');
});

t.test('the CompositeController drives the hook', async (t) => {
  const cc = one(kustomized, 'CompositeController') as unknown as {
    spec: {
      generateSelector: boolean;
      parentResource: Json;
      childResources: { apiVersion: string; resource: string; updateStrategy?: { method: string } }[];
      hooks: Record<string, { webhook: HookWebhook }>;
    };
  };
  t.equal(cc.spec.generateSelector, true);
  t.same(cc.spec.parentResource, { apiVersion: 'ianlewis.org/v1alpha1', resource: 'memcachedproxies' });
  t.same(
    cc.spec.childResources.map((c) => [c.apiVersion, c.resource, c.updateStrategy?.method]),
    [
      ['v1', 'configmaps', 'InPlace'],
      ['apps/v1', 'deployments', 'InPlace'],
      ['v1', 'services', 'InPlace'],
      ['policy/v1', 'poddisruptionbudgets', 'InPlace'],
    ],
    'every child the hook returns, updated in place',
  );
  t.equal(hookUrl(cc.spec.hooks.sync?.webhook), `${serviceUrl(kustomized)}/sync`, 'sync points at the hook Service');
  t.equal(hookUrl(cc.spec.hooks.customize?.webhook), `${serviceUrl(kustomized)}/customize`, 'customize points at the hook Service');
  t.same(Object.keys(cc.spec.hooks).sort(), ['customize', 'sync'], 'the hook serves sync and customize only');
  const period = (objects: K8sObject[]) => (one(objects, 'CompositeController') as unknown as { spec: { resyncPeriodSeconds?: number } }).spec.resyncPeriodSeconds;
  t.equal(period(kustomized), 300, 'every proxy is sent to the hook every 5 minutes, changed or not: its gauges, which the alert reads, are set only by a sync');
  t.equal(period(helmed), period(kustomized), 'the chart too');
  t.equal(period(helmTemplate('--set', 'resyncPeriodSeconds=60')), 60, 'and its resyncPeriodSeconds sets it');
});

t.test('an overlay that moves or renames the install moves the hooks with it', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'overlay-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  cpSync(KUSTOMIZE_DIR, join(dir, 'base'), { recursive: true });
  // A prefix alone too: kustomize renames the Service, and must find the hooks' reference to it.
  for (const [overlay, url] of [
    ['namespace: ops\nnamePrefix: team-\n', 'http://team-memcached-operator.ops:80'],
    ['namePrefix: team-a-\n', 'http://team-a-memcached-operator.memcached-operator:80'],
  ] as const) {
    writeFileSync(join(dir, 'kustomization.yaml'), `apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n${overlay}resources:\n  - base\n`);
    const moved = kustomize(dir);
    const hooks = (one(moved, 'CompositeController') as unknown as { spec: { hooks: Record<string, { webhook: HookWebhook }> } }).spec.hooks;
    t.equal(serviceUrl(moved), url, overlay);
    t.equal(hookUrl(hooks['sync']?.webhook), `${url}/sync`);
    t.equal(hookUrl(hooks['customize']?.webhook), `${url}/customize`);
  }
});

t.test('the hook Deployment, Service and PDB fit together', async (t) => {
  for (const [where, objects] of [
    ['kustomize', kustomized],
    ['helm', helmed],
  ] as const) {
    const deployment = one(objects, 'Deployment') as K8sObject & { spec: { replicas: number; selector: { matchLabels: Record<string, string> }; template: { metadata: { labels: Record<string, string> } } } };
    const service = one(objects, 'Service') as K8sObject & { spec: { selector: Record<string, string>; ports: { name: string; port: number; targetPort: string }[] } };
    const pdb = one(objects, 'PodDisruptionBudget') as K8sObject & { spec: { maxUnavailable: number; unhealthyPodEvictionPolicy?: string; selector: { matchLabels: Record<string, string> } } };
    const labels = deployment.spec.template.metadata.labels;
    const selects = (selector: Record<string, string> | undefined) => selectsByLabels(selector, labels);
    t.ok(selects(deployment.spec.selector.matchLabels), `${where}: the Deployment selects its pods`);
    t.ok(selects(service.spec.selector), `${where}: the Service selects the hook pods`);
    t.ok(selects(pdb.spec.selector.matchLabels), `${where}: the PDB covers the hook pods`);
    t.equal(deployment.spec.replicas, 2, `${where}: two replicas`);
    t.equal(pdb.spec.maxUnavailable, 1, `${where}: drains evict one hook pod at a time (one waits while another is not ready)`);
    // IfHealthyBudget, the default, refuses to evict a crash-looping pod once the budget is spent: two such hook pods would hold every drain.
    t.equal(pdb.spec.unhealthyPodEvictionPolicy, 'AlwaysAllow', `${where}: pods that are not ready are evicted whatever the budget`);

    const pod = podSpecOf(deployment);
    const container = hookContainer(deployment);
    const env = envOf(container);
    const httpPort = container.ports?.find((p) => p.name === 'http');
    t.equal(httpPort?.containerPort, 8080, `${where}: port http is 8080`);
    t.equal(env.PORT, String(httpPort?.containerPort), `${where}: PORT is the container port`);
    t.equal(service.spec.ports[0]?.port, 80, `${where}: the Service listens on 80`);
    t.equal(service.spec.ports[0]?.targetPort, 'http', `${where}: ... and sends to port http`);
    t.match(container.livenessProbe, { httpGet: { path: '/healthz', port: 'http' } }, `${where}: liveness on /healthz`);
    t.match(container.readinessProbe, { httpGet: { path: '/readyz', port: 'http' } }, `${where}: readiness on /readyz`);
    t.ok(container.resources?.requests?.cpu && container.resources.requests.memory, `${where}: resource requests`);
    for (const name of ['PORT', 'LOG_LEVEL', 'CLUSTER_DOMAIN', 'MCROUTER_IMAGE', 'SHUTDOWN_DELAY_MS']) t.ok(env[name], `${where}: env ${name}`);
    t.doesNotThrow(() => settingsFromEnv(env), `${where}: the hook starts with this environment`);
    t.equal(env.MCROUTER_IMAGE, DEFAULT_SETTINGS.mcrouterImage, `${where}: the default mcrouter image`);
    t.equal(env.CLUSTER_DOMAIN, DEFAULT_SETTINGS.clusterDomain, `${where}: the default cluster domain`);
    t.equal(env.BODY_LIMIT, String(DEFAULT_SETTINGS.bodyLimit), `${where}: the default body limit`);
    t.equal(env.REQUEST_TIMEOUT_MS, String(DEFAULT_SETTINGS.requestTimeoutMs), `${where}: the default request timeout`);
    t.equal(env.JSON_DEPTH_LIMIT, String(DEFAULT_SETTINGS.jsonDepthLimit), `${where}: the default depth limit`);
    t.equal(container.image, `ghcr.io/ianlewis/memcached-operator:${pkg.version}`, `${where}: the image of this version`);
    // SIGTERM: readiness fails, SHUTDOWN_DELAY_MS of serving, then in-flight requests get at most
    // the shutdown timeout (or one Metacontroller hook timeout, 10 s) to finish.
    const drainMs = (DEFAULT_SETTINGS as { shutdownTimeoutMs?: number }).shutdownTimeoutMs ?? 10_000;
    const shutdownMs = Number(env.SHUTDOWN_DELAY_MS) + drainMs;
    t.ok((pod.terminationGracePeriodSeconds ?? 30) * 1000 > shutdownMs, `${where}: the grace period outlasts the drain`);
    t.equal(pod.securityContext?.runAsUser, 65532, `${where}: runs as the image's user`);
  }
});

t.test('the chart\'s ServiceMonitor scrapes the hook\'s /metrics through its Service, only when asked for', async (t) => {
  t.same(byKind(helmed, 'ServiceMonitor'), [], 'none by default: it needs the Prometheus Operator\'s CRDs');
  const objects = helmTemplate('--set', 'serviceMonitor.enabled=true', '--set', 'serviceMonitor.interval=30s', '--set-string', 'serviceMonitor.labels.release=kube-prometheus-stack');
  const monitor = one(objects, 'ServiceMonitor') as K8sObject & { spec: { selector: { matchLabels: Record<string, string> }; endpoints: { port: string; path: string; honorLabels?: boolean; interval?: string }[] } };
  const service = one(objects, 'Service') as K8sObject & { metadata: { labels: Record<string, string> }; spec: { ports: { name: string }[] } };
  t.equal(monitor.metadata.namespace, service.metadata.namespace, 'beside the Service: a ServiceMonitor selects Services of its own namespace');
  t.ok(selectsByLabels(monitor.spec.selector.matchLabels, service.metadata.labels), 'it selects the hook\'s Service');
  t.same(monitor.spec.endpoints, [{ port: service.spec.ports[0]!.name, path: '/metrics', honorLabels: true, interval: '30s' }], 'by the Service\'s port name');
  // The proxies' gauges carry the proxy's own namespace label, which the target's would otherwise rename to exported_namespace.
  t.equal(monitor.spec.endpoints[0]!.honorLabels, true, 'the proxies\' namespace and name labels are kept, not renamed exported_*');
  t.equal(monitor.metadata.labels?.['release'], 'kube-prometheus-stack', 'with the labels a Prometheus selects by');
  validateObject(t, monitor, 'helm with serviceMonitor');
  const plain = one(helmTemplate('--set', 'serviceMonitor.enabled=true'), 'ServiceMonitor') as typeof monitor;
  t.notOk('interval' in plain.spec.endpoints[0]!, 'no interval: Prometheus\' own');
  const zero = one(helmTemplate('--set', 'serviceMonitor.enabled=true', '--set-string', 'serviceMonitor.interval=0'), 'ServiceMonitor') as typeof monitor;
  t.equal(zero.spec.endpoints[0]!.interval, '0', 'an interval of digits alone stays a string: the CRD\'s field is one');
  validateObject(t, zero, 'helm with serviceMonitor.interval=0');
  for (const [value, why] of [
    ['serviceMonitor.interval=30', 'a number: not a Prometheus duration'],
    ['serviceMonitor.interval=30 s', 'not a Prometheus duration'],
    ['serviceMonitor.labels.release=true', 'a boolean, as --set makes it: the API server refuses a label that is no string'],
    ['serviceMonitor.labels.app\\.kubernetes\\.io/instance=other', 'a label the chart sets: the ServiceMonitor would carry it twice'],
    ['serviceMonitor.enable=true', 'a misspelt key'],
  ]) {
    t.throws(() => helmTemplate('--set', value!), /values don't meet the specifications of the schema/, `${value}: refused (${why})`);
  }
});

t.test('kustomize and helm install the same objects', async (t) => {
  // As the API server stores them: the CompositeController, cluster-scoped, without the namespace kustomize gave it.
  const stored = (o: K8sObject): K8sObject =>
    o.kind === 'CompositeController' ? { ...o, metadata: Object.fromEntries(Object.entries(o.metadata).filter(([k]) => k !== 'namespace')) as K8sObject['metadata'] } : o;
  const fromKustomize = new Map(kustomized.filter((o) => o.kind !== 'Namespace').map((o) => [keyOf(stored(o)), stored(o)]));
  const fromHelm = new Map(helmed.map((o) => [keyOf(o), o]));
  t.same([...fromHelm.keys()].sort(), [...fromKustomize.keys()].sort(), 'the same objects (the Namespace comes from helm --create-namespace)');
  for (const [key, object] of fromKustomize) t.same(fromHelm.get(key), object, key);
});

t.test('the chart', async (t) => {
  t.equal(chart.apiVersion, 'v2', 'Helm 3 chart');
  t.equal(chart.appVersion, pkg.version, 'appVersion is the package version');
  t.match(run('helm', ['lint', '--strict', CHART]), /0 chart\(s\) failed/, 'helm lint --strict passes');

  const noCrd = helmTemplate('--set', 'crds.install=false');
  t.same(byKind(noCrd, 'CustomResourceDefinition'), [], 'crds.install=false leaves the CRD out');
  t.equal(noCrd.length, helmed.length - 1);
  t.same(byKind(helmTemplate('--set', 'podDisruptionBudget.enabled=false'), 'PodDisruptionBudget'), [], 'the PDB can be turned off');
  // Over a single pod a PDB protects nothing; the hook's own mcrouter PDBs follow the same rule.
  const single = helmTemplate('--set', 'replicaCount=1');
  t.equal((one(single, 'Deployment') as K8sObject & { spec: { replicas: number } }).spec.replicas, 1);
  t.same(byKind(single, 'PodDisruptionBudget'), [], 'one replica: no PDB');
  t.same(byKind(helmTemplate('--set', 'replicaCount=0'), 'PodDisruptionBudget'), [], 'no replicas: no PDB');
  const three = byKind(helmTemplate('--set', 'replicaCount=3'), 'PodDisruptionBudget') as (K8sObject & { spec: { maxUnavailable: number } })[];
  t.same(three.map((pdb) => pdb.spec.maxUnavailable), [1], 'more than one replica: one hook pod evicted at a time');

  const custom = helmTemplate(
    '--set', 'image.tag=dev',
    '--set', 'image.repository=example.com/hook',
    '--set', 'image.pullPolicy=Always',
    '--set', 'replicaCount=3',
    '--set', 'logLevel=debug',
    '--set', 'clusterDomain=k8s.example',
    '--set', 'mcrouterImage=example.com/mcrouter:0.41.0',
    '--set', 'exporterImage=example.com/exporter:1',
    '--set', 'inFlightBodyLimit=20000000',
    '--set', 'resources.requests.cpu=1',
    '--set', 'podAnnotations.a=b',
    '--set', 'nodeSelector.disk=ssd',
    '--set', 'priorityClassName=platform-critical',
    '--set', 'serviceAccountName=memcached-hook',
    '--set-json', 'topologySpreadConstraints=[{"maxSkew":1,"topologyKey":"topology.kubernetes.io/zone","whenUnsatisfiable":"ScheduleAnyway","labelSelector":{"matchLabels":{"app.kubernetes.io/name":"memcached-operator"}}}]',
    '--set', 'extraEnv[0].name=NODE_OPTIONS',
    '--set', 'extraEnv[0].value=--max-old-space-size=768',
    '--set', 'imagePullSecrets[0].name=registry-credentials',
  );
  const deployment = one(custom, 'Deployment') as K8sObject & { spec: { replicas: number; template: { metadata: { annotations?: Json } } } };
  const container = hookContainer(deployment);
  t.equal(container.image, 'example.com/hook:dev');
  t.equal(container.imagePullPolicy, 'Always');
  t.equal(deployment.spec.replicas, 3);
  const setEnv = { LOG_LEVEL: 'debug', CLUSTER_DOMAIN: 'k8s.example', MCROUTER_IMAGE: 'example.com/mcrouter:0.41.0', EXPORTER_IMAGE: 'example.com/exporter:1' };
  t.strictSame(envAs(envOf(container), setEnv), setEnv, 'the values, exactly (t.match took example.com/exporter:10 for :1)');
  t.doesNotThrow(() => settingsFromEnv(envOf(container)), 'the hook starts with these values');
  t.equal(settingsFromEnv(envOf(container)).inFlightBodyLimit, 20_000_000, 'inFlightBodyLimit: the hook\'s IN_FLIGHT_BODY_LIMIT');
  // 0, the default: the variable unset, so that the hook's default follows bodyLimit.
  const defaultBudget = envOf(hookContainer(one(helmTemplate('--set', 'bodyLimit=1048576'), 'Deployment')));
  t.equal(defaultBudget['IN_FLIGHT_BODY_LIMIT'], undefined, 'inFlightBodyLimit 0: IN_FLIGHT_BODY_LIMIT unset');
  t.equal(settingsFromEnv(defaultBudget).inFlightBodyLimit, defaultInFlightBodyLimit(1_048_576), '... and the hook\'s default follows bodyLimit');
  t.throws(
    () => helmTemplate('--set', 'inFlightBodyLimit=4194304'),
    /inFlightBodyLimit \(4194304\) must be at least bodyLimit \(8388608\): a body of the largest size must fit/,
    'inFlightBodyLimit under bodyLimit: refused by the chart, as the hook would refuse to start',
  );
  t.equal(envOf(container)['NODE_OPTIONS'], '--max-old-space-size=768', 'extraEnv: added to the hook\'s variables');
  t.same(
    (container.env ?? []).map((e) => e.name).filter((name) => name !== 'NODE_OPTIONS').sort(),
    [...CHART_ENV].sort(),
    'extraEnv refuses exactly the variables the chart sets from its values',
  );
  t.equal(container.resources?.requests?.cpu, 1);
  t.same(deployment.spec.template.metadata.annotations, { a: 'b' });
  t.same(podSpecOf(deployment).nodeSelector, { disk: 'ssd' });
  t.equal(podSpecOf(deployment).priorityClassName, 'platform-critical');
  t.equal(podSpecOf(deployment).serviceAccountName, 'memcached-hook', 'serviceAccountName: the pods run as it, still without its token');
  t.equal(podSpecOf(deployment).automountServiceAccountToken, false);
  t.strictSame(
    podSpecOf(deployment).topologySpreadConstraints,
    [{ maxSkew: 1, topologyKey: 'topology.kubernetes.io/zone', whenUnsatisfiable: 'ScheduleAnyway', labelSelector: { matchLabels: { 'app.kubernetes.io/name': 'memcached-operator' } } }],
    'topologySpreadConstraints as given, labelSelector too (without it a constraint counts no pod)',
  );
  t.notOk('priorityClassName' in podSpecOf(one(helmed, 'Deployment')) || 'topologySpreadConstraints' in podSpecOf(one(helmed, 'Deployment')), 'neither by default');
  t.same(podSpecOf(deployment).imagePullSecrets, [{ name: 'registry-credentials' }]);
  for (const o of custom) validateObject(t, o, 'helm with values');

  // OpenShift's restricted-v2 assigns the UID: the fixed user and group removed (the README's values), the rest kept.
  const openshift = one(
    helmTemplate(
      '--set', 'podSecurityContext.runAsUser=null,podSecurityContext.runAsGroup=null',
      '--set', 'securityContext.runAsUser=null,securityContext.runAsGroup=null',
      '--set', 'podSecurityContext.fsGroup=1000',
    ),
    'Deployment',
  );
  t.same(podSpecOf(openshift).securityContext, { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' }, fsGroup: 1000 }, 'podSecurityContext: merged over the default, null removes a key');
  t.same(
    hookContainer(openshift).securityContext,
    { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, runAsNonRoot: true, capabilities: { drop: ['ALL'] }, seccompProfile: { type: 'RuntimeDefault' } },
    'securityContext: the same for the container',
  );
  t.same(restrictedViolations(podSpecOf(openshift), undefined), [], 'still restricted without a fixed user');
  validateObject(t, openshift, 'helm with OpenShift\'s security contexts');
  const loosened = hookContainer(one(helmTemplate('--set', 'securityContext.readOnlyRootFilesystem=false'), 'Deployment'));
  t.equal(loosened.securityContext?.readOnlyRootFilesystem, false, 'a key of the container\'s default overridden');
  t.equal(loosened.securityContext?.runAsUser, 65532, '... the others kept');
  t.same(podSpecOf(one(helmed, 'Deployment')).securityContext, podSpecOf(one(kustomized, 'Deployment')).securityContext, 'the defaults: the kustomize install\'s');
  const unset = one(helmTemplate('--set', 'podSecurityContext=null', '--set', 'securityContext=null'), 'Deployment');
  t.notOk('securityContext' in podSpecOf(unset) || 'securityContext' in hookContainer(unset), 'null: no securityContext key at all');

  // The grace period covers the drain and the in-flight timeout the hook is given, and hookTimeout is a Go duration.
  const grace = (d: K8sObject[]) => (podSpecOf(one(d, 'Deployment')) as { terminationGracePeriodSeconds?: number }).terminationGracePeriodSeconds;
  t.equal(grace(helmed), 30, 'the defaults (3 s + 10 s): 30 s, Kubernetes\' default');
  const slow = helmTemplate('--set', 'shutdownDelayMs=5000', '--set', 'shutdownTimeoutMs=60000', '--set', 'hookTimeout=1m');
  for (const timeout of ['1m30s', '1.5s', '2500ms', '0.25m', '1h', '1h0m0s', '2s500ms']) {
    const hooks = (one(helmTemplate('--set', `hookTimeout=${timeout}`), 'CompositeController') as unknown as { spec: { hooks: Record<string, { webhook: { timeout: unknown } }> } }).spec.hooks;
    t.equal(hooks['sync']!.webhook.timeout, timeout, `hookTimeout=${timeout} is taken`);
  }
  t.equal(grace(slow), 70, '5 s + 60 s: 65 s, plus 5 to spare');
  const slowEnv = { SHUTDOWN_DELAY_MS: '5000', SHUTDOWN_TIMEOUT_MS: '60000' };
  t.strictSame(envAs(envOf(hookContainer(one(slow, 'Deployment'))), slowEnv), slowEnv, 'exactly (t.match took 600000 for 60000)');
  const timeouts = (one(slow, 'CompositeController') as unknown as { spec: { hooks: Record<string, { webhook: { timeout: unknown } }> } }).spec.hooks;
  t.same([timeouts['sync']!.webhook.timeout, timeouts['customize']!.webhook.timeout], ['1m', '1m']);
  const refused: [string, string][] = [
    ['hookTimeout=30', 'a number, which Metacontroller cannot read'],
    ['hookTimeout=ten', 'not a duration'],
    ['hookTimeout=0s', 'Metacontroller takes a timeout of 0 as none given, and waits 10 s'],
    ['hookTimeout=0m0.0s', 'zero, however spelt'],
    ['hookTimeout=0.5ns', 'under a nanosecond, which Go reads as 0'],
    ['hookTimeout=0.0000000001s', 'under a nanosecond in seconds, which Go reads as 0 too'],
    ['hookTimeout=900us', 'under a millisecond: no hook call could be answered'],
    ['hookTimeout=0.0005s', 'under a millisecond, in seconds'],
    ['hookTimeout=2562048h', 'past what Go\'s ParseDuration holds: Metacontroller could not read the CompositeController'],
    ['hookTimeout=9999999999999ms', 'past it in milliseconds too'],
    ['shutdownDelayMs=-1', 'negative'],
    ['bodyLimit=0', 'Fastify refuses a body limit of 0: the hook would refuse to start'],
    ['clusterDomain=cluster.local.', 'a trailing dot: the hook would refuse to start'],
    ['mcrouterImage= mcrouter:1', 'not an image reference: the hook would refuse to start'],
    ['exporterImage=dev25/Exporter:1', 'capitals in the path: not an image reference'],
    ['replicas=5', 'a misspelt key (replicaCount), which would be ignored'],
    ['image.repo=x', 'a misspelt key under image'],
    ['podDisruptionBudget.minAvailable=1', 'a key the chart does not have'],
    ['fullnameOverride=Hook_1', 'not a DNS-1035 label: the Service could not be created'],
    ['nameOverride=Hook_1', 'not a DNS-1035 label either'],
    ['image.repository=reg.example.com/memcached-operator:0.1.0', 'a tag in the repository: the chart adds its own, and the kubelet cannot parse the two'],
    ['image.tag=sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef', 'a digest without its @: an image reference the kubelet cannot parse'],
    ['podDisruptionBudget.maxUnavailable=0', 'would block every drain of the hook\'s nodes'],
    ['podDisruptionBudget.maxUnavailable=one', 'neither a number nor a percentage: the API server refuses the PDB'],
    ['inFlightBodyLimit=-1', 'negative'],
    ['inFlightBodyLimit=lots', 'not a number of bytes'],
    ['jsonDepthLimit=16', 'under 32: the hook would refuse every request, which reaches about 20 levels'],
    ['priorityClassName=Platform_Critical', 'not a PriorityClass name'],
    ['podSecurityContext=restricted', 'not a PodSecurityContext'],
    ['securityContext=restricted', 'not a SecurityContext'],
    ['topologySpreadConstraints[0]=zone', 'not a TopologySpreadConstraint'],
    ['topologySpreadConstraints[0].maxSkew=1', 'without the topologyKey and whenUnsatisfiable the API server requires'],
    ['imagePullSecrets[0]=regcred', 'a bare name: a pod names its pull secrets as {name}'],
    ['imagePullSecrets[0].nmae=regcred', 'a misspelt key of a pull secret'],
    ['imagePullSecrets[0].name=RegCred', 'not a Secret name'],
    ['extraEnv[0].name=LOG_LEVEL', 'a variable the chart sets from logLevel: it would hide it'],
    ['extraEnv[0].value=x', 'an EnvVar without a name'],
    ['extraEnv[0].name=NODE_OPTIONS,extraEnv[0].value=768', 'a value --set makes a number: the API server refuses it'],
    ['extraEnv[0].name=TZ,extraEnv[0].vaule=UTC', 'a misspelt key of an EnvVar'],
    ['extraEnv[0].name=TZ,extraEnv[0].value=UTC,extraEnv[0].valueFrom.configMapKeyRef.name=tz', 'value and valueFrom both: the API server refuses it'],
    ['securityContext.fsGroup=5', "the pod's field in the container's securityContext: the API server would drop it without a word"],
    ['podSecurityContext.readOnlyRootFilesystem=true', "the container's field in the pod's"],
    ['resources.limit.memory=512Mi', 'a misspelt key of resources'],
    ['resources.limits.memory=512MB', 'no quantity: the API server refuses it'],
    ['resources.limits.memory=-1Gi', 'a negative quantity: the API server refuses it in resources'],
    ['resources.requests.cpu=-1', 'a negative number, the same'],
    ['serviceAccountName=Hook_SA', 'not a ServiceAccount name'],
    ['tolerations[0].keyy=dedicated', 'a misspelt key of a toleration, which the API server would drop'],
    ['affinity.nodeAffinityy.x=1', 'a misspelt key of affinity'],
    // Typed as the CRD types them (src/api/pod-fields.ts): what the API server would refuse at the Deployment.
    ['securityContext.runAsUser=root', 'a user name where Kubernetes takes a UID'],
    ['podSecurityContext.runAsNonRoot=yes', 'not a boolean'],
    ['podSecurityContext.seccompProfile.type=null', 'a seccomp profile without the type Kubernetes requires'],
    ['podSecurityContext.sysctls[0].value=1024', 'a sysctl without its name'],
    ['securityContext.capabilities.drop=ALL', 'a capability where Kubernetes takes a list'],
    ['affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions[0].key=zone', 'a node selector requirement without its operator'],
    ['affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].weight=100', 'a weighted term without its podAffinityTerm'],
  ];
  // What values.schema.json leaves open stays open: the fields of later Kubernetes versions, and null to remove a default.
  for (const value of ['podSecurityContext.supplementalGroupsPolicy=Strict', 'podSecurityContext.runAsUser=null', 'securityContext.capabilities.add[0]=NET_ADMIN', 'podSecurityContext.sysctls[0].name=net.core.somaxconn', 'podSecurityContext.seLinuxOptions.level=s0:c123\\,c456', 'affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].weight=100,affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].podAffinityTerm.topologyKey=kubernetes.io/hostname', 'resources=null', 'resources.limits.cpu=2', 'resources.requests.cpu=1e-3', 'resources.requests.memory=+64Mi']) {
    t.doesNotThrow(() => helmTemplate('--set', value), `${value}: accepted`);
  }
  // A private registry on a port, and a digest after the tag, are image references the kubelet reads.
  const pinned = helmTemplate('--set', 'image.repository=localhost:5000/team/memcached-operator', '--set', 'image.tag=0.1.0@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef', '--set', 'podDisruptionBudget.maxUnavailable=50%');
  t.equal(hookContainer(one(pinned, 'Deployment')).image, 'localhost:5000/team/memcached-operator:0.1.0@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef');
  for (const [value, why] of refused) {
    t.throws(() => helmTemplate('--set', value), /values don't meet the specifications of the schema/, `${value}: refused by values.schema.json (${why})`);
  }
  t.throws(
    () => run('helm', ['template', '1op', CHART]),
    /the objects' name "1op-memcached-operator" is not a DNS-1035 label/,
    'a release name that makes no Service name: refused, with what to do',
  );
  // A template cannot import the API's pattern: it spells it out, the same.
  t.ok(readFileSync(join(CHART, 'templates', '_helpers.tpl'), 'utf8').includes(`regexMatch "${DNS1035_LABEL}"`), 'the name check is the API\'s DNS-1035 label');
  // As a dependency of another chart, which gives it `global` values.
  const umbrella = mkdtempSync(join(tmpdir(), 'umbrella-'));
  writeFileSync(join(umbrella, 'Chart.yaml'), 'apiVersion: v2\nname: platform\nversion: 1.0.0\ndependencies:\n  - name: memcached-operator\n    version: ">=0.0.0"\n');
  writeFileSync(join(umbrella, 'values.yaml'), 'global:\n  team: cache\n');
  cpSync(CHART, join(umbrella, 'charts', 'memcached-operator'), { recursive: true });
  t.ok(byKind(parseYamlObjects(run('helm', ['template', 'platform', umbrella])), 'CompositeController').length === 1, 'renders as a dependency');
  // Helm reads a number from a values file as float64: rendered as it is, 1000000 would be "1e+06".
  const valuesFile = join(mkdtempSync(join(tmpdir(), 'values-')), 'values.yaml');
  writeFileSync(valuesFile, 'shutdownDelayMs: 2000000\nshutdownTimeoutMs: 1000000\nbodyLimit: 16777216\ninFlightBodyLimit: 100000000\nrequestTimeoutMs: 1200000\njsonDepthLimit: 200\n');
  const fromValues = envOf(hookContainer(one(helmTemplate('-f', valuesFile), 'Deployment')));
  const valuesEnv = { SHUTDOWN_DELAY_MS: '2000000', SHUTDOWN_TIMEOUT_MS: '1000000', BODY_LIMIT: '16777216', IN_FLIGHT_BODY_LIMIT: '100000000', REQUEST_TIMEOUT_MS: '1200000', JSON_DEPTH_LIMIT: '200' };
  t.strictSame(envAs(fromValues, valuesEnv), valuesEnv);
  t.match(settingsFromEnv(fromValues), { requestTimeoutMs: 1_200_000, jsonDepthLimit: 200, inFlightBodyLimit: 100_000_000 }, 'the hook reads them');

  // values.schema.json is generated from what the hook itself accepts (scripts/chart-values-schema.ts).
  const valuesSchema = JSON.parse(readFileSync(join(CHART, 'values.schema.json'), 'utf8')) as { properties: Record<string, Json> };
  t.same(valuesSchema.properties['logLevel'], { enum: LOG_LEVELS }, 'logLevel: the levels the hook accepts');
  for (const [value, name] of [['shutdownDelayMs', 'SHUTDOWN_DELAY_MS'], ['shutdownTimeoutMs', 'SHUTDOWN_TIMEOUT_MS'], ['bodyLimit', 'BODY_LIMIT'], ['requestTimeoutMs', 'REQUEST_TIMEOUT_MS'], ['jsonDepthLimit', 'JSON_DEPTH_LIMIT']] as const) {
    const [minimum, maximum] = INTEGER_RANGES[name];
    t.same(valuesSchema.properties[value], { type: 'integer', minimum, maximum }, `${value}: the range of ${name}`);
  }
  const [minimum, maximum] = INTEGER_RANGES.IN_FLIGHT_BODY_LIMIT;
  t.same(valuesSchema.properties['inFlightBodyLimit'], { anyOf: [{ const: 0 }, { type: 'integer', minimum, maximum }] }, 'inFlightBodyLimit: 0 (the default) or the range of IN_FLIGHT_BODY_LIMIT');

  const elsewhere = parseYamlObjects(run('helm', ['template', 'proxies', CHART, '--namespace', 'ops']));
  const cc = one(elsewhere, 'CompositeController') as unknown as { spec: { hooks: { sync: { webhook: HookWebhook } } } };
  const service = one(elsewhere, 'Service');
  t.equal(service.metadata.name, 'proxies-memcached-operator', 'names follow the release');
  t.equal(hookUrl(cc.spec.hooks.sync.webhook), 'http://proxies-memcached-operator.ops:80/sync', 'the hook follows the release and namespace');

  // nameOverride replaces the chart's name in every name, as in most charts; the labels keep it (the selector cannot change).
  const renamed = parseYamlObjects(run('helm', ['template', 'proxies', CHART, '--namespace', 'ops', '--set', 'nameOverride=cache-hook']));
  const renamedCc = one(renamed, 'CompositeController') as unknown as { spec: { hooks: { sync: { webhook: HookWebhook } } } };
  t.equal(one(renamed, 'Service').metadata.name, 'proxies-cache-hook', 'nameOverride: RELEASE-NAME');
  t.equal(hookUrl(renamedCc.spec.hooks.sync.webhook), 'http://proxies-cache-hook.ops:80/sync', '... and the hook\'s URL with it');
  t.same(one(renamed, 'Deployment').metadata.labels, one(elsewhere, 'Deployment').metadata.labels, '... the labels as they were');
  t.equal(one(parseYamlObjects(run('helm', ['template', 'cache-hook-prod', CHART, '--set', 'nameOverride=cache-hook'])), 'Service').metadata.name, 'cache-hook-prod', 'a release named after it keeps its name');
});

function parseYamlObjects(text: string): K8sObject[] {
  return text
    .split(/^---$/m)
    .map((doc) => parseYaml(doc) as K8sObject | null)
    .filter((o): o is K8sObject => o !== null && o !== undefined);
}

t.test('every pod meets the restricted Pod Security Standard', async (t) => {
  const pods = [...kustomized, ...helmed, ...examples].flatMap((o) => podTemplatesOf(o));
  t.ok(pods.length >= 5, 'the hook (twice) and the example memcached pods');
  for (const pod of pods) t.same(restrictedViolations(pod.spec, pod.annotations), [], pod.where);
  for (const pod of pods) {
    for (const c of pod.spec.containers) t.equal(c.securityContext?.readOnlyRootFilesystem, true, `${pod.where} ${c.name}: read-only root filesystem`);
  }
});

t.test('the examples work together', async (t) => {
  const services = new Map(byKind(examples, 'Service').map((s) => [s.metadata.name, s as K8sObject & { spec: { clusterIP?: string; ports: { name: string; port: number }[] } }]));
  const statefulSets = byKind(examples, 'StatefulSet') as (K8sObject & { spec: { serviceName: string } })[];
  for (const sts of statefulSets) t.ok(services.get(sts.spec.serviceName)?.spec.clusterIP === 'None', `${sts.metadata.name} has a headless Service`);
  const leaves: { name: string; port?: number | string }[] = [];
  const walk = (rule: Json) => {
    if (rule.service) leaves.push(rule.service as { name: string; port?: number | string });
    for (const child of (rule.children ?? []) as Json[]) walk(child);
  };
  for (const proxy of byKind(examples, 'MemcachedProxy')) {
    const spec = proxy.spec as { serviceName?: string; servicePort?: number | string; rules?: Json };
    if (spec.serviceName) leaves.push({ name: spec.serviceName, ...(spec.servicePort === undefined ? {} : { port: spec.servicePort }) });
    if (spec.rules) walk(spec.rules);
  }
  t.ok(leaves.length >= 3);
  for (const leaf of leaves) {
    const service = services.get(leaf.name);
    t.ok(service, `Service ${leaf.name} is in memcached.yaml`);
    const port = leaf.port ?? 11211;
    t.ok(service?.spec.ports.some((p) => (typeof port === 'number' ? p.port === port : p.name === port)), `${leaf.name} has port ${port}`);
  }
  t.ok(byKind(examples, 'MemcachedProxy').some((p) => p.metadata.name === 'example-cluster' && (p.spec as Json).serviceName === 'memcached-pool1'));
  t.same(kustomized.filter((o) => o.kind === 'MemcachedProxy' || o.kind === 'StatefulSet'), [], 'the examples are not part of the install');
});

t.test('the Dockerfile runs node as PID 1, as the manifests\' user', async (t) => {
  const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
  t.match(dockerfile, /^ENTRYPOINT \["node", "hook\.mjs"\]$/m, 'node is PID 1 and gets SIGTERM');
  t.match(dockerfile, /^COPY --from=build \/src\/dist\/hook\.mjs /m, 'the bundle (test/bundle.test.ts runs it alone)');
  t.notMatch(dockerfile, /^COPY .*node_modules/m, 'no dependencies beside it: the bundle holds them');
  t.match(dockerfile, /^USER 65532(:65532)?$/m, 'non-root, numeric');
  t.match(dockerfile, /^EXPOSE 8080$/m);
  t.notMatch(dockerfile, /npm (start|run start)/, 'no npm wrapper');
  const final = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));
  t.match(final, /^RUN rm -rf [^\n]*\/usr\/local\/lib\/node_modules\/npm /m, 'npm and the packages it bundles are not shipped');
  t.match(dockerfile, /^RUN npm ci [^\n]*--ignore-scripts/m, 'no install script runs in the build');
  const dockerignore = readFileSync(join(ROOT, '.dockerignore'), 'utf8');
  t.match(dockerignore, /^\*\*$/m, 'the build context is an allow-list');
});

t.test('the chart\'s notes name the installed objects and warn of a setting that cannot work', async (t) => {
  /** What `helm install` prints after NOTES: (a client-side dry run renders them without a cluster). */
  const notes = (...values: string[]) => {
    const out = run('helm', ['install', 'x', CHART, '--namespace', 'team', '--dry-run=client', ...values.flatMap((v) => ['--set', v])]);
    return out.slice(out.indexOf('NOTES:'));
  };
  const plain = notes('image.repository=registry.example/memcached-operator');
  t.match(plain, 'kubectl -n team rollout status deployment/x-memcached-operator', 'the hook\'s Deployment, by its name and namespace');
  t.match(plain, 'kubectl get compositecontroller x-memcached-operator');
  t.notMatch(plain, 'WARNING', 'nothing to warn of with working values');
  t.match(notes(), /WARNING: image.repository is the default, ghcr.io\/ianlewis\/memcached-operator,\nwhich is not published/, 'the image this repository does not publish');
  t.match(notes('image.repository=r.example/h', 'replicaCount=0'), 'WARNING: replicaCount is 0: no hook runs');
  t.notMatch(notes('image.repository=r.example/h', 'replicaCount=null'), 'WARNING', 'a null replicaCount is one pod (no replicas rendered): no warning');
  t.match(notes('image.repository=r.example/h', 'crds.install=false'), 'the MemcachedProxy CRD (memcachedproxies.ianlewis.org)\nmust be installed some other way');
  t.match(notes('image.repository=r.example/h', 'networkPolicy.enabled=true', 'serviceMonitor.enabled=true'), 'add your Prometheus\' namespace to networkPolicy.extraFrom, or scrapes of /metrics fail (the ServiceMonitor\'s too)');
  t.match(notes('image.repository=r.example/h', 'networkPolicy.enabled=true'), 'or scrapes of /metrics fail.', 'a scraper of its own (prometheus.io annotations, a ServiceMonitor not the chart\'s) is cut too');
  t.notMatch(notes('image.repository=r.example/h', 'networkPolicy.enabled=true', 'serviceMonitor.enabled=true', 'networkPolicy.extraFrom[0].namespaceSelector.matchLabels.team=monitoring'), 'WARNING', 'a scraper let in: no warning');
  // hookTimeout against shutdownTimeoutMs (10000 by default), in every unit values.schema.json admits.
  for (const [timeout, shutdown, warns] of [
    ['30s', 10_000, true],
    ['10s', 10_000, false],
    ['10001ms', 10_000, true],
    ['10000ms', 10_000, false],
    ['2s500ms', 2500, false],
    ['2s500ms', 2499, true],
    ['0.25m', 15_000, false],
    ['0.25m', 14_999, true],
    ['1.5s', 1000, true],
    ['1m30s', 90_000, false],
    ['1m30s', 89_999, true],
    ['0.5h', 1_800_000, false],
    ['1h', 1_800_000, true],
  ] as const) {
    const text = notes('image.repository=r.example/h', `hookTimeout=${timeout}`, `shutdownTimeoutMs=${shutdown}`);
    if (warns) t.match(text, `WARNING: shutdownTimeoutMs (${shutdown}) is under hookTimeout (${timeout})`, `hookTimeout ${timeout}, shutdownTimeoutMs ${shutdown}: warned`);
    else t.notMatch(text, 'WARNING', `hookTimeout ${timeout}, shutdownTimeoutMs ${shutdown}: no warning`);
  }
});

t.test("the README's table of chart values: a row for each value of values.yaml and no other, with the defaults it sets", async (t) => {
  const values = parseYaml(readFileSync(join(ROOT, 'charts', 'memcached-operator', 'values.yaml'), 'utf8')) as Record<string, unknown>;
  // A row names one value or a few (`image`, `userRoles.aggregate`, `shutdownDelayMs`, `shutdownTimeoutMs`).
  const rows = tableRows(page('README.md'), '| value | default | what |').map(([names, defaults]) => ({ paths: codeSpans(names!), defaults: defaults! }));
  const at = (path: string): unknown => path.split('.').reduce<unknown>((o, key) => (o as Record<string, unknown> | undefined)?.[key], values);
  for (const path of rows.flatMap((r) => r.paths)) t.not(at(path), undefined, `${path}: a value of values.yaml`);
  // Every scalar a value sets by default, as written, a whole word of its row's defaults (3000 is not 30000); but
  // the security contexts, whose defaults the row says in words.
  const inWords = new Set(['podSecurityContext', 'securityContext']);
  const leaves = (value: unknown, path: string): [string, unknown][] =>
    value !== null && typeof value === 'object' && !Array.isArray(value)
      ? Object.entries(value).flatMap(([key, v]) => leaves(v, path === '' ? key : `${path}.${key}`))
      : [[path, value]];
  for (const [key, value] of Object.entries(values)) {
    const row = rows.find((r) => r.paths.some((p) => p.split('.')[0] === key));
    t.ok(row, `${key} has a row`);
    if (!row || inWords.has(key)) continue;
    for (const [path, leaf] of leaves(value, key)) {
      if (leaf === '' || leaf === null || typeof leaf === 'object') continue;
      t.match(row.defaults, wholeWord(String(leaf)), `${path}: its default ${String(leaf)} in the row`);
    }
  }
});
