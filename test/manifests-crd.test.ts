/**
 * The generated CRD: committed bytes equal a fresh generation, it is a valid
 * apiextensions.k8s.io/v1 object with a structural schema, and its schema and
 * CEL rules accept every example MemcachedProxy and refuse bad ones.
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { CustomResourceDefinition } from 'kubernetes-models/apiextensions.k8s.io/v1';
import { CRD_NAME, memcachedProxyCrd, toCrdSchema } from '../src/api/crd.js';
import { CEL_RULES, MAX_NAME_LENGTH, MAX_RULE_CHILDREN, MAX_RULE_DEPTH } from '../src/api/cel-rules.js';
import { MemcachedProxySpec, Rule } from '../src/api/memcached-proxy.js';
import { CRD_FILES, VALUES_SCHEMA_FILE, generatedFiles, main as generate, renderCrdYaml, renderValuesSchema } from '../scripts/manifests.js';
import { crdViolations, structuralViolations, type Schema } from './helpers/crd-validation.js';
import { EXAMPLES_DIR, ROOT, parseObjects, type K8sObject } from './helpers/k8s-tools.js';

type Json = Record<string, unknown>;
const crd = memcachedProxyCrd() as { spec: { versions: Json[]; names: Json; scope: string }; metadata: Json };
const version = crd.spec.versions[0] as { schema: { openAPIV3Schema: Schema }; subresources: Json; additionalPrinterColumns: Json[] };
const schema = version.schema.openAPIV3Schema;
const committed = parseObjects(readFileSync(join(ROOT, 'metacontroller/crd.yaml'), 'utf8'));

const examples: K8sObject[] = readdirSync(EXAMPLES_DIR)
  .filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml')
  .flatMap((f) => parseObjects(readFileSync(join(EXAMPLES_DIR, f), 'utf8')))
  .filter((o) => o.kind === 'MemcachedProxy');

const proxy = (spec: Json, name = 'p'): Json => ({
  apiVersion: 'ianlewis.org/v1alpha1',
  kind: 'MemcachedProxy',
  metadata: { name, namespace: 'default' },
  spec,
});

t.test('the committed generated files are byte-identical to a fresh generation', async (t) => {
  const fresh = renderCrdYaml();
  for (const file of CRD_FILES) {
    t.equal(readFileSync(join(ROOT, file), 'utf8'), fresh, `${file} is up to date (run npm run manifests)`);
  }
  t.equal(readFileSync(join(ROOT, VALUES_SCHEMA_FILE), 'utf8'), renderValuesSchema(), `${VALUES_SCHEMA_FILE} is up to date`);
  t.equal(renderCrdYaml(), fresh, 'generation is deterministic');
  t.same(committed, [memcachedProxyCrd()], 'the YAML parses back to the generated object');
  t.equal(generate(['--check']), 0, 'npm run manifests -- --check passes');
});

t.test('npm run manifests writes the files and --check spots a stale one', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'crd-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const lines: string[] = [];
  const report = (line: string) => void lines.push(line);
  t.equal(generate(['--check'], dir, report), 1, 'missing files are stale');
  t.match(lines, [/crd\.yaml is out of date/, /crd\.yaml is out of date/, /values\.schema\.json is out of date/]);
  t.equal(generate([], dir, report), 0, 'writes');
  t.equal(generate(['--check'], dir, report), 0, 'then up to date');
  t.equal(lines.at(-1), 'the generated files are up to date', 'and says so');
  for (const [file, text] of generatedFiles()) t.equal(readFileSync(join(dir, file), 'utf8'), text, file);
});

t.test('the CRD is a valid apiextensions.k8s.io/v1 object', async (t) => {
  t.doesNotThrow(() => new CustomResourceDefinition(committed[0] as never).validate());
  t.equal(crd.metadata.name, CRD_NAME);
  t.equal(CRD_NAME, 'memcachedproxies.ianlewis.org');
  t.equal(crd.spec.scope, 'Namespaced');
  // Exactly: t.match took a listKind equal to the kind (the API server refuses it), or any other one, and more short names.
  t.strictSame(crd.spec.names, { kind: 'MemcachedProxy', listKind: 'MemcachedProxyList', plural: 'memcachedproxies', singular: 'memcachedproxy', shortNames: ['mp'] });
  t.same(version.subresources, { status: {} }, 'status subresource: Metacontroller writes the status through it');
  // Said outright: an apply over v0.0.2's CRD (v1beta1, no schema, preserveUnknownFields true) that left it out would
  // keep true, and the API server refuses schema defaults beside it.
  t.equal((crd.spec as { preserveUnknownFields?: unknown }).preserveUnknownFields, false, 'preserveUnknownFields: false, written out');
  const hasDefaults = JSON.stringify(version.schema).includes('"default":');
  t.ok(hasDefaults, 'the schema has defaults, which need it');
  t.match(version, { name: 'v1alpha1', served: true, storage: true });
  const columns = Object.fromEntries(version.additionalPrinterColumns.map((c) => [c.name, c.jsonPath]));
  t.match(columns, {
    Target: '.status.target',
    Servers: '.status.servers',
    Ready: '.status.readyServers',
    Status: '.status.conditions[?(@.type=="Ready")].reason',
    Age: '.metadata.creationTimestamp',
  });
});

t.test('kubectl explain describes every field of the spec, and the status', async (t) => {
  const undescribed: string[] = [];
  const walk = (node: Schema, path: string): void => {
    for (const [key, child] of Object.entries((node.properties ?? {}) as Record<string, Schema>)) {
      if (child.description === undefined) undescribed.push(`${path}.${key}`);
      walk(child, `${path}.${key}`);
    }
    if (node.items && typeof node.items === 'object') walk(node.items as Schema, `${path}[]`);
  };
  const props = schema.properties as Record<string, Schema>;
  walk(props.spec as Schema, '.spec');
  t.same(undescribed, [], 'every spec field has a description');
  t.ok((props.status as Schema).description, 'the status has one');
  walk(props.status as Schema, '.status');
  t.same(undescribed, [], 'and every status field');
});

t.test('the schema is structural', async (t) => {
  t.same(structuralViolations(schema), []);
  const props = schema.properties as Record<string, Schema>;
  t.same(props.metadata, { type: 'object' }, 'metadata is only type: object');
  t.same(schema.required, ['spec']);
  const spec = props.spec as Schema;
  t.notOk(JSON.stringify(schema).includes('"~'), 'no TypeBox internals');
  t.notOk(JSON.stringify(schema).includes('patternProperties'), 'maps are additionalProperties');
  t.notOk('default' in ((spec.properties as Record<string, Schema>).servicePort as Schema), 'no default for servicePort: it would land on rules-form objects');
  t.same((props.status as Schema).type, 'object', 'status is the status schema, not a union with null');
  const conditions = ((props.status as Schema).properties as Record<string, Schema>).conditions as Schema;
  // Exactly: t.match took the keys ['type', 'reason'], which let two conditions of one type stand side by side.
  t.strictSame(
    [conditions['x-kubernetes-list-type'], conditions['x-kubernetes-list-map-keys']],
    ['map', ['type']],
    'conditions: one per type, as metav1.Condition lists are',
  );
  t.ok(((conditions.items as Schema).required as string[]).includes('type'), 'the map key is required, as the API server demands');
});

t.test('the CEL rules sit at the right nodes', async (t) => {
  const rulesAt = (node: Schema) => ((node['x-kubernetes-validations'] ?? []) as { rule: string }[]).map((r) => r.rule);
  const props = schema.properties as Record<string, Schema>;
  t.same(rulesAt(schema), [CEL_RULES.proxyName.rule, CEL_RULES.ownServiceName.rule], 'the rules that read self.metadata.name, at the root');
  const spec = props.spec as Schema;
  t.same(rulesAt(spec), [CEL_RULES.oneForm.rule, CEL_RULES.servicePortWithName.rule]);
  t.same(rulesAt((spec.properties as Record<string, Schema>).mcrouter as Schema), [CEL_RULES.exporterPort.rule, CEL_RULES.statsRoot.rule, CEL_RULES.statsRootSystemDir.rule]);
  const tolerations = ((spec.properties as Record<string, Schema>).mcrouter!.properties as Record<string, Schema>).tolerations as Schema;
  t.same(rulesAt(tolerations.items as Schema), [CEL_RULES.tolerationEmptyKey.rule, CEL_RULES.tolerationExistsValue.rule, CEL_RULES.tolerationSeconds.rule], 'each toleration');
  t.ok(typeof tolerations.maxItems === 'number', 'tolerations are bounded for the CEL cost estimator');
  for (const field of ['key', 'operator', 'value', 'effect']) {
    const node = (tolerations.items as Schema).properties as Record<string, Schema>;
    t.ok(typeof node[field]!.maxLength === 'number' || Array.isArray(node[field]!.enum), `toleration ${field} is bounded for the CEL cost estimator`);
  }
  let rule = (spec.properties as Record<string, Schema>).rules as Schema;
  for (let level = 1; level <= 3; level++) {
    const expected = level < 3 ? [CEL_RULES.serviceOrChildren.rule] : [CEL_RULES.serviceOrChildren.rule, CEL_RULES.leafAtDeepest.rule];
    t.same(rulesAt(rule), expected, `rule level ${level}`);
    const children = (rule.properties as Record<string, Schema>).children as Schema;
    if (level < 3) {
      t.ok(typeof children.maxItems === 'number', `level ${level} children are bounded for the CEL cost estimator`);
      rule = children.items as Schema;
    } else {
      t.equal(children.maxItems, 0, 'no fourth level');
    }
  }
});

t.test('the schema accepts every example MemcachedProxy', async (t) => {
  t.ok(examples.length >= 2, 'there are examples');
  t.ok(examples.some((e) => (e.spec as Json).serviceName === 'memcached-pool1'), 'the serviceName example');
  t.ok(examples.some((e) => (e.spec as Json).rules !== undefined), 'a rules example');
  for (const example of examples) {
    t.same(crdViolations(schema, example), [], `${example.metadata.name} is accepted`);
  }
});

t.test('the rule schemas nest MAX_RULE_DEPTH levels of at most MAX_RULE_CHILDREN children, the deepest a leaf', async (t) => {
  type Node = { properties: { children: { maxItems: number; items: Node } } };
  let level = 1;
  let rule = (schema as { properties: { spec: { properties: { rules: Node } } } }).properties.spec.properties.rules;
  while (rule.properties.children.maxItems > 0) {
    t.equal(rule.properties.children.maxItems, MAX_RULE_CHILDREN, `level ${level}: at most ${MAX_RULE_CHILDREN} children`);
    rule = rule.properties.children.items;
    level++;
  }
  t.equal(level, MAX_RULE_DEPTH, 'the deepest level takes no children');
  // The CEL rule against leaves named like the proxy reaches every level: one nesting of all() per level below the top.
  t.equal(CEL_RULES.ownServiceName.rule.match(/\.all\(/g)?.length, MAX_RULE_DEPTH - 1);
});

t.test('the schema and CEL rules accept good objects', async (t) => {
  const good: [string, Json][] = [
    ['serviceName alone', proxy({ serviceName: 'memcached' })],
    ['serviceName and a port number', proxy({ serviceName: 'memcached', servicePort: 11211 })],
    ['serviceName and a port name', proxy({ serviceName: 'memcached', servicePort: 'memcache' })],
    ['a rules leaf', proxy({ rules: { service: { name: 'a', port: 'memcache' } } })],
    [
      'three levels',
      proxy({
        rules: {
          type: 'replicated',
          children: [{ children: [{ service: { name: 'a' } }, { service: { name: 'b', port: 11211 } }], hash: 'Rendezvous' }, { service: { name: 'c' } }],
        },
      }),
    ],
    [
      // v0.0.2's controller wrote its Go zero values back: `type: ""` and `port: 0` where the user left them out.
      'a v0.0.2 object as its controller stored it',
      proxy({
        rules: {
          type: 'replicated',
          children: [
            { type: '', service: { name: 'a', namespace: 'default', port: 0 } },
            { type: '', children: [{ type: '', service: { name: 'b', namespace: 'default', port: 0 } }, { type: 'sharded', service: { name: 'c', namespace: 'default', port: 'memcache' } }] },
          ],
        },
        mcrouter: { image: 'ianmlewis/mcrouter:v0.36.0-2', resources: {}, port: 11211, securityContext: { runAsNonRoot: true, readOnlyRootFilesystem: true }, statsRoot: '/var/mcrouter/stats' },
      }),
    ],
    ['a 54-character name', proxy({ serviceName: 'm' }, `a${'b'.repeat(MAX_NAME_LENGTH - 1)}`)],
    ['a status', { ...proxy({ serviceName: 'm' }), status: { servers: 3, readyServers: 2, conditions: [{ type: 'Ready', status: 'True' }] } }],
    ['mcrouter settings', proxy({ serviceName: 'm', mcrouter: { replicas: 3, nodeSelector: { a: 'b' }, resources: { limits: { cpu: 1 } }, exporter: { enabled: true } } })],
    ['a 19-character Service port name (a DNS-1123 label, up to 63)', proxy({ serviceName: 'm', servicePort: 'memcache-binary-tcp' })],
    ['a port name of digits only (the number, when no port has that name)', proxy({ rules: { service: { name: 'a', port: '11211' } } })],
    [
      'resources as a Deployment takes them',
      proxy({
        serviceName: 'm',
        mcrouter: {
          resources: { requests: { cpu: '0.5', memory: '128Mi', 'ephemeral-storage': '1G' }, limits: { cpu: 2, memory: '1e9', 'nvidia.com/gpu': '1' } },
          exporter: { resources: { requests: {} } },
        },
      }),
    ],
    ['a pod annotation of 20 KiB (a Vault agent template, say)', proxy({ serviceName: 'm', mcrouter: { podAnnotations: { 'vault.hashicorp.com/agent-inject-template-config': 'x'.repeat(20 * 1024) }, nodeSelector: { 'topology.kubernetes.io/zone': 'eu-west-1a', pool: '' } } })],
    ['pull secrets', proxy({ serviceName: 'm', mcrouter: { imagePullSecrets: [{ name: 'regcred' }, { name: 'registry.example.com' }] } })],
    [
      'tolerations as pods take them',
      proxy({
        serviceName: 'm',
        mcrouter: {
          tolerations: [
            { operator: 'Exists' },
            { key: 'dedicated', operator: 'Equal', value: 'cache', effect: 'NoSchedule' },
            { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 30 },
            { key: 'gpu', value: 'no' },
            { key: 'spot', operator: 'Exists', value: '', effect: '' },
          ],
        },
      }),
    ],
    [
      'security contexts with fields removed (OpenShift assigns the user) and one of a newer Kubernetes, and an affinity',
      proxy({
        serviceName: 'm',
        mcrouter: {
          podSecurityContext: { runAsUser: null, fsGroup: null, sysctls: [{ name: 'net.core.somaxconn', value: '1024' }], supplementalGroupsPolicy: 'Strict' },
          securityContext: { runAsGroup: null, capabilities: { add: ['NET_BIND_SERVICE'] }, seccompProfile: { type: 'RuntimeDefault' } },
          affinity: { podAntiAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 100, podAffinityTerm: { topologyKey: 'kubernetes.io/hostname', labelSelector: { matchLabels: { app: 'mcrouter' } } } }] } },
        },
      }),
    ],
    ['images with a registry, a port, a digest', proxy({ serviceName: 'm', mcrouter: { image: 'registry.example.com:5000/cache/mcrouter:0.41.0', exporter: { image: `ghcr.io/dev25/mcrouter_exporter@sha256:${'a'.repeat(64)}` } } })],
    ['the exporter off, on mcrouter\'s port', proxy({ serviceName: 'm', mcrouter: { port: 9442, exporter: { enabled: false, port: 9442 } } })],
    ['the exporter on its own port', proxy({ serviceName: 'm', mcrouter: { port: 9442, exporter: { enabled: true, port: 9150 } } })],
    ...['/var/mcrouter/stats', '/stats', '/etcetera', '/etc/mcrouterx', '/etcmcrouter', '/etcmcrouter/x', '/var/etc/mcrouter', '/var/.stats', '/usrx', '/user/stats', '/var/usr', '/libexec/x', '/tmp/stats', '/run/mcrouter'].map(
      (statsRoot): [string, Json] => [`statsRoot ${statsRoot}`, proxy({ serviceName: 'm', mcrouter: { statsRoot } })],
    ),
  ];
  for (const [name, object] of good) t.same(crdViolations(schema, object), [], name);
});

t.test('the schema and CEL rules refuse bad objects', async (t) => {
  const bad: [string, Json, RegExp][] = [
    ['both serviceName and rules', proxy({ serviceName: 'a', rules: { service: { name: 'a' } } }), /exactly one of spec.serviceName and spec.rules/],
    ['neither serviceName nor rules', proxy({}), /exactly one of spec.serviceName and spec.rules/],
    ['servicePort with rules', proxy({ servicePort: 11211, rules: { service: { name: 'a' } } }), /servicePort is only used with spec.serviceName/],
    ['a rule with both service and children', proxy({ rules: { service: { name: 'a' }, children: [{ service: { name: 'b' } }] } }), /either service or children/],
    ['a rule with neither', proxy({ rules: { type: 'sharded' } }), /either service or children/],
    ['a nested rule with neither', proxy({ rules: { children: [{ children: [{ hash: 'Ch3' }] }] } }), /either service or children/],
    ['a 60-character name', proxy({ serviceName: 'a' }, 'a'.repeat(60)), /DNS-1035 label of at most 54/],
    ['a 55-character name', proxy({ serviceName: 'a' }, 'a'.repeat(55)), /DNS-1035 label of at most 54/],
    ['a name with capitals', proxy({ serviceName: 'a' }, 'Example'), /DNS-1035 label/],
    ['a name starting with a digit', proxy({ serviceName: 'a' }, '1example'), /DNS-1035 label/],
    ['a fourth level', proxy({ rules: { children: [{ children: [{ children: [{ service: { name: 'a' } }] }] }] } }), /./],
    ['the exporter on mcrouter\'s port', proxy({ serviceName: 'a', mcrouter: { exporter: { enabled: true, port: 11211 } } }), /exporter\.port must differ/],
    ['the exporter on mcrouter\'s port, by default', proxy({ serviceName: 'a', mcrouter: { port: 9442, exporter: { enabled: true } } }), /exporter\.port must differ/],
    ...['/etc/mcrouter', '/etc/mcrouter/', '/etc/mcrouter/stats', '/etc//mcrouter/x', '/etc/mcrouter/\nx', '/', '//', '/etc', '/etc/', '/var/../etc/mcrouter', '/./etc'].map(
      (statsRoot): [string, Json, RegExp] => [`statsRoot ${JSON.stringify(statsRoot)}`, proxy({ serviceName: 'a', mcrouter: { statsRoot } }), /statsRoot must not be \/etc\/mcrouter/],
    ),
    ...['/usr', '/usr/', '/usr/local/bin', '//lib64', '/lib', '/proc', '/sys/fs/stats', '/dev', '/bin', '/sbin/x', '/boot', '/usr/\nx'].map(
      (statsRoot): [string, Json, RegExp] => [`statsRoot ${JSON.stringify(statsRoot)}`, proxy({ serviceName: 'a', mcrouter: { statsRoot } }), /statsRoot must not be in \/bin, /],
    ),
    ['serviceName named like the proxy', proxy({ serviceName: 'p' }), /no leaf Service may be named like the proxy/],
    ['a leaf named like the proxy', proxy({ rules: { service: { name: 'p' } } }), /no leaf Service may be named like the proxy/],
    ['a second-level leaf named like the proxy', proxy({ rules: { children: [{ service: { name: 'a' } }, { service: { name: 'p' } }] } }), /named like the proxy/],
    [
      'a third-level leaf named like the proxy',
      proxy({ rules: { children: [{ service: { name: 'a' } }, { children: [{ service: { name: 'b' } }, { service: { name: 'p' } }] }] } }),
      /named like the proxy/,
    ],
    ['an empty group at the third level', proxy({ rules: { children: [{ children: [{ children: [] }, { service: { name: 'a' } }] }] } }), /at level 3 must be a service/],
    ['port 0', proxy({ serviceName: 'a', servicePort: 0 }), /./],
    ['a leaf port below 0', proxy({ rules: { service: { name: 'a', port: -1 } } }), /./],
    ['an empty port name', proxy({ rules: { service: { name: 'a', port: '' } } }), /./],
    ['a rule type other than the two and v0.0.2\'s ""', proxy({ rules: { type: 'mirrored', service: { name: 'a' } } }), /./],
    ['a 64-character port name', proxy({ serviceName: 'a', servicePort: 'x'.repeat(64) }), /./],
    ['a port name no Service port can have', proxy({ serviceName: 'a', servicePort: 'Memcache' }), /should match pattern|pattern/],
    ['a nodeSelector value longer than a label value', proxy({ serviceName: 'a', mcrouter: { nodeSelector: { disk: 'x'.repeat(64) } } }), /./],
    ['a nodeSelector value with a space', proxy({ serviceName: 'a', mcrouter: { nodeSelector: { disk: 'fast ssd' } } }), /pattern/],
    ['a quantity in another unit system', proxy({ serviceName: 'a', mcrouter: { resources: { requests: { memory: '128MB' } } } }), /pattern/],
    ['a quantity in words', proxy({ serviceName: 'a', mcrouter: { exporter: { resources: { limits: { cpu: 'one' } } } } }), /pattern/],
    // As for every CRD with resources: a quantity is an integer or a string.
    ['a fractional number as a quantity', proxy({ serviceName: 'a', mcrouter: { resources: { requests: { cpu: 0.5 } } } }), /./],
    ['an image with a leading space', proxy({ serviceName: 'a', mcrouter: { image: ' mcrouter:1' } }), /pattern/],
    ['an image with capitals in its path', proxy({ serviceName: 'a', mcrouter: { exporter: { image: 'dev25/Exporter:1' } } }), /pattern/],
    ['a bad hash', proxy({ rules: { hash: 'Md5', service: { name: 'a' } } }), /./],
    ['a bad service name', proxy({ serviceName: 'Not_A_Name' }), /./],
    ['empty children', proxy({ rules: { children: [] } }), /./],
    ['a leaf without a name', proxy({ rules: { service: { port: 11211 } } }), /./],
    ['negative replicas', proxy({ serviceName: 'a', mcrouter: { replicas: -1 } }), /./],
    ['a pull secret without a name', proxy({ serviceName: 'a', mcrouter: { imagePullSecrets: [{}] } }), /name/],
    ['a pull secret name with capitals', proxy({ serviceName: 'a', mcrouter: { imagePullSecrets: [{ name: 'RegCred' }] } }), /pattern/],
    ['a pull secret name of 254 characters', proxy({ serviceName: 'a', mcrouter: { imagePullSecrets: [{ name: 'a'.repeat(254) }] } }), /./],
    ['a non-string nodeSelector value', proxy({ serviceName: 'a', mcrouter: { nodeSelector: { a: 1 } } }), /./],
    ['a toleration effect a taint cannot have', proxy({ serviceName: 'a', mcrouter: { tolerations: [{ key: 'a', operator: 'Equal', value: 'x', effect: 'Sometimes' }] } }), /./],
    ['a toleration operator a pod cannot have', proxy({ serviceName: 'a', mcrouter: { tolerations: [{ key: 'a', operator: 'In', value: 'x' }] } }), /./],
    ['a toleration value no label can have', proxy({ serviceName: 'a', mcrouter: { tolerations: [{ key: 'a', value: 'x y' }] } }), /pattern/],
    ['a toleration with Exists and a value', proxy({ serviceName: 'a', mcrouter: { tolerations: [{ key: 'a', operator: 'Exists', value: 'x' }] } }), /value must be empty when operator is Exists/],
    ['a toleration without a key, Equal', proxy({ serviceName: 'a', mcrouter: { tolerations: [{ operator: 'Equal', value: 'x' }] } }), /operator must be Exists when key is empty/],
    ['a toleration without key or operator', proxy({ serviceName: 'a', mcrouter: { tolerations: [{ effect: 'NoSchedule' }] } }), /operator must be Exists when key is empty/],
    ['tolerationSeconds without NoExecute', proxy({ serviceName: 'a', mcrouter: { tolerations: [{ key: 'a', operator: 'Exists', effect: 'NoSchedule', tolerationSeconds: 30 }] } }), /effect must be NoExecute when tolerationSeconds is set/],
    ['tolerationSeconds without an effect', proxy({ serviceName: 'a', mcrouter: { tolerations: [{ key: 'a', operator: 'Exists', tolerationSeconds: 30 }] } }), /effect must be NoExecute/],
    ['a user id given as a name', proxy({ serviceName: 'a', mcrouter: { securityContext: { runAsUser: 'root' } } }), /integer/],
    ['a seccomp profile without its type', proxy({ serviceName: 'a', mcrouter: { podSecurityContext: { seccompProfile: { localhostProfile: 'mcrouter.json' } } } }), /type/],
    ['node selector terms that are no list', proxy({ serviceName: 'a', mcrouter: { affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: 'x' } } } } }), /array/],
    ['a pod affinity term with a null topologyKey', proxy({ serviceName: 'a', mcrouter: { affinity: { podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ topologyKey: null }] } } } }), /./],
    ['no spec', { apiVersion: 'ianlewis.org/v1alpha1', kind: 'MemcachedProxy', metadata: { name: 'p' } }, /./],
  ];
  for (const [name, object, message] of bad) {
    const violations = crdViolations(schema, object);
    t.ok(violations.length > 0, `${name} is refused`);
    t.match(violations.map((v) => v.message).join('\n'), message, `${name}: ${JSON.stringify(violations)}`);
  }
});

t.test('toCrdSchema converts TypeBox forms and refuses what a CRD cannot say', async (t) => {
  t.same(toCrdSchema({ type: 'object', patternProperties: { '^.*$': { type: 'string' } } }), {
    type: 'object',
    additionalProperties: { type: 'string' },
  });
  t.same(toCrdSchema({ type: 'object', additionalProperties: { type: 'integer' } }), { type: 'object', additionalProperties: { type: 'integer' } });
  t.same(toCrdSchema({ const: 'x' }), { type: 'string', enum: ['x'] });
  t.same(toCrdSchema({ anyOf: [{ type: 'string', maxLength: 3 }, { type: 'null' }], description: 'd' }), { description: 'd', type: 'string', maxLength: 3 });
  t.same(toCrdSchema({ type: 'object', properties: {}, additionalProperties: true, 'x-kubernetes-preserve-unknown-fields': true }), {
    type: 'object',
    'x-kubernetes-preserve-unknown-fields': true,
  });
  t.same(toCrdSchema({ type: 'object', properties: { a: { type: 'string' } }, additionalProperties: false, required: [] }), {
    type: 'object',
    properties: { a: { type: 'string' } },
  });
  t.same(
    toCrdSchema({ type: 'object', 'x-kubernetes-validations': [{ rule: 'true', message: 'm', reason: 'FieldValueInvalid', fieldPath: '.a', messageExpression: "'m'", optionalOldSelf: true }] }),
    { type: 'object', 'x-kubernetes-validations': [{ rule: 'true', message: 'm', messageExpression: "'m'", reason: 'FieldValueInvalid', fieldPath: '.a', optionalOldSelf: true }] },
  );
  t.same(toCrdSchema(MemcachedProxySpec).type, 'object');
  t.same(toCrdSchema(Rule)['x-kubernetes-validations'], [CEL_RULES.serviceOrChildren]);

  const refused: [string, unknown][] = [
    ['not an object', 'string'],
    ['no type', { description: 'x' }],
    ['type null', { type: 'null' }],
    ['an unknown keyword', { type: 'string', contentEncoding: 'base64' }],
    ['a union', { anyOf: [{ type: 'string' }, { type: 'integer' }] }],
    ['a union of nulls only', { anyOf: [{ type: 'null' }] }],
    ['a pattern map', { type: 'object', patternProperties: { '^a': { type: 'string' } } }],
    ['a pattern map beside additionalProperties', { type: 'object', patternProperties: { '^.*$': { type: 'string' } }, additionalProperties: { type: 'string' } }],
    ['a pattern map beside properties', { type: 'object', properties: { a: { type: 'string' } }, patternProperties: { '^.*$': { type: 'string' } } }],
    ['patternProperties not an object', { type: 'object', patternProperties: 1 }],
    ['properties and additionalProperties', { type: 'object', properties: { a: { type: 'string' } }, additionalProperties: { type: 'string' } }],
    ['additionalProperties: true alone', { type: 'object', additionalProperties: true }],
    ['properties not an object', { type: 'object', properties: 1 }],
    ['an array without items', { type: 'array' }],
    ['tuple items', { type: 'array', items: [{ type: 'string' }] }],
    ['const and enum', { type: 'string', const: 'a', enum: ['a'] }],
    ['int-or-string in the wrong order', { 'x-kubernetes-int-or-string': true, anyOf: [{ type: 'string' }, { type: 'integer' }] }],
    ['int-or-string without anyOf', { 'x-kubernetes-int-or-string': true }],
    ['int-or-string with a bad branch constraint', { 'x-kubernetes-int-or-string': true, anyOf: [{ type: 'integer', maxLength: 1 }, { type: 'string' }] }],
    ['int-or-string with a doubled constraint', { 'x-kubernetes-int-or-string': true, maxLength: 2, anyOf: [{ type: 'integer' }, { type: 'string', maxLength: 1 }] }],
    ['empty validations', { type: 'object', 'x-kubernetes-validations': [] }],
    ['a validation without a rule', { type: 'object', 'x-kubernetes-validations': [{ message: 'm' }] }],
    ['a validation with an unknown field', { type: 'object', 'x-kubernetes-validations': [{ rule: 'true', severity: 'high' }] }],
  ];
  for (const [name, input] of refused) t.throws(() => toCrdSchema(input, 'x'), { name: 'CrdSchemaError' }, name);
});

t.test('the structural checker catches what it checks for', async (t) => {
  const broken: [string, Schema][] = [
    ['untyped field', { type: 'object', properties: { a: { description: 'x' } } }],
    ['root not object', { type: 'string' }],
    ['metadata constrained', { type: 'object', properties: { metadata: { type: 'object', properties: { labels: { type: 'object' } } } } }],
    ['anyOf with types', { type: 'object', properties: { a: { type: 'string', anyOf: [{ type: 'string' }] } } }],
    ['int-or-string with constraints in branches', { type: 'object', properties: { a: { 'x-kubernetes-int-or-string': true, anyOf: [{ type: 'integer', minimum: 1 }, { type: 'string' }] } } }],
    ['int-or-string with a type', { type: 'object', properties: { a: { type: 'string', 'x-kubernetes-int-or-string': true } } }],
    ['int-or-string preserving fields', { type: 'object', properties: { a: { 'x-kubernetes-int-or-string': true, 'x-kubernetes-preserve-unknown-fields': true } } }],
    ['unknown keyword', { type: 'object', '~kind': 'Object' }],
    ['array without items', { type: 'object', properties: { a: { type: 'array' } } }],
    ['tuple items', { type: 'object', properties: { a: { type: 'array', items: [{ type: 'string' }] } } }],
    ['uniqueItems', { type: 'object', properties: { a: { type: 'array', items: { type: 'string' }, uniqueItems: true } } }],
    ['additionalProperties at the root', { type: 'object', additionalProperties: { type: 'string' } }],
    ['additionalProperties beside properties', { type: 'object', properties: { a: { type: 'object', properties: { b: { type: 'string' } }, additionalProperties: { type: 'string' } } } }],
    ['type null', { type: 'object', properties: { a: { type: 'null' } } }],
    ['a bad type', { type: 'object', properties: { a: { type: ['string', 'null'] } } }],
    ['kind not a string', { type: 'object', properties: { kind: { type: 'integer' } } }],
    ['empty rule', { type: 'object', 'x-kubernetes-validations': [{ rule: ' ' }] }],
    ['rules not a list', { type: 'object', 'x-kubernetes-validations': { rule: 'true' } }],
    ['message with a line break', { type: 'object', 'x-kubernetes-validations': [{ rule: 'true', message: 'a\nb' }] }],
    ['properties not an object', { type: 'object', properties: 1 }],
    ['node not an object', { type: 'object', properties: { a: 1 } }],
  ];
  for (const [name, node] of broken) t.ok(structuralViolations(node).length > 0, name);
});
