/**
 * The proxy's status. Metacontroller replaces the whole status with what the
 * hook returns, so everything a user relies on is recomputed every sync, and
 * what must persist (a condition's lastTransitionTime, the last change) is
 * carried over from the parent's current status.
 */
import { PORT_MAX } from '../api/formats.js';
import type { Deployment } from '../api/kubernetes.js';
import type { MemcachedProxy } from '../api/memcached-proxy.js';
import {
  CONDITION_MESSAGE_MAX_LENGTH,
  CONFIG_APPLY_GRACE_SECONDS,
  READY_CONDITION,
  RECONCILING_DEADLINE_SECONDS,
  conditionOf,
  readyCondition,
  type Condition,
  type ConfigBehind,
  type LastChange,
  type MemcachedProxyStatus,
  type PoolStatus,
  type ReadyReason,
} from '../api/proxy-status.js';
import { isHighSurrogate } from '../text/utf16.js';
import { rollsOnConfig, wantsPodDisruptionBudget } from './children.js';
import type { Membership } from './membership.js';
import type { UnsupportedHash } from './mcrouter-version.js';
import type { TemplateFault } from './pod-template-check.js';
import { SPEC_HASH_ANNOTATION, mcrouterName, proxyServiceName } from './naming.js';
import type { Slots } from './slots.js';
import type { PoolRef } from './topology.js';

export interface PoolOutcome {
  ref: PoolRef;
  membership: Membership;
  slots: Slots;
}

export interface StatusInput {
  parent: MemcachedProxy;
  pools: PoolOutcome[];
  /** The pools the route sends requests to that have no servers, so those requests fail (buildConfig's `failing`). */
  failing: ReadonlySet<string>;
  configHash: string;
  /** When the status first reported `configHash`. */
  configSince: string;
  /**
   * The proxy's own children in the request: what Metacontroller has applied so far. `configMapExists`,
   * `serviceExists`, `podDisruptionBudgetExists`: that child is there (the Deployment is read, the others only
   * looked for; the PodDisruptionBudget whether or not this spec wants one). `configApplied`:
   * the observed ConfigMap holds the desired config. `configBehind`: while the ConfigMap lacks the config the
   * last status asked for, what it holds and since when, which the status shows once `configBehindShown` or
   * once Ready says ConfigNotApplied (config-record.ts).
   */
  observed: {
    configMapExists: boolean;
    configApplied: boolean;
    configBehind: ConfigBehind | undefined;
    configBehindShown: boolean;
    serviceExists: boolean;
    podDisruptionBudgetExists: boolean;
    deployment: Deployment | undefined;
  };
  /** The annotation the desired Deployment carries (deploymentSpecHash). */
  deploymentSpecHash: string;
  /** The image the mcrouter pods run, and a hash the spec shards by that the image's version cannot load. */
  mcrouterImage: string;
  tooOldFor: UnsupportedHash | undefined;
  /** The first field the API server would refuse in the Deployment (podTemplateFault): asked only while the Deployment is not the one wanted. */
  templateFault: () => TemplateFault | undefined;
  /** The StatefulSets scaled to 0 behind a Service (membership's scaledToZeroLookup): asked only of a pool without endpoints. */
  scaledToZero: (service: string) => string[];
  desiredReplicas: number;
  lastChange: LastChange | undefined;
  now: string;
}

/** Seconds from the RFC 3339 time `since` to `now`: the waits of a sync (NaN for an unreadable time). */
export const secondsSince = (since: string, now: string): number => (Date.parse(now) - Date.parse(since)) / 1000;

/**
 * Seconds left of a wait `wait` seconds long that began at `since`: at most the wait itself, as a `since` a few
 * minutes ahead of this clock (another hook replica's) would otherwise put the next sync off past it. Times
 * further ahead never get here (stored-times.ts).
 */
const waitLeft = (wait: number, since: string, now: string): number => Math.min(wait, wait - secondsSince(since, now));

/** Seconds until a ConfigMap behind since `since` counts as not taking the config (0 or less: it does), or undefined when it is not behind. */
export const configGraceLeft = (since: string | undefined, now: string): number | undefined =>
  since === undefined ? undefined : waitLeft(CONFIG_APPLY_GRACE_SECONDS, since, now);

/** Whether the observed Deployment is the one this sync asks for: Metacontroller has applied it. */
const deploymentIsCurrent = (input: StatusInput): boolean =>
  input.observed.deployment?.metadata.annotations?.[SPEC_HASH_ANNOTATION] === input.deploymentSpecHash;

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** How many of the things at fault a message names: `status.pools` has every pool's reason. */
const LISTED = 10;

/** The first LISTED items, then how many more: a proxy has up to 4,096 pools, and a message must stay readable and short. */
function listed(items: string[], separator = ', '): string {
  // One Service behind several pools (one per port) is named once.
  const unique = [...new Set(items)];
  if (unique.length <= LISTED) return unique.join(separator);
  return `${unique.slice(0, LISTED).join(separator)}${separator}and ${unique.length - LISTED} more`;
}

/** A message cut to the condition's limit (the Deployment's own messages are quoted, and may be that long themselves). */
function withinLimit(message: string): string {
  if (message.length <= CONDITION_MESSAGE_MAX_LENGTH) return message;
  let cut = CONDITION_MESSAGE_MAX_LENGTH - 1;
  // Not between the two halves of a surrogate pair.
  if (isHighSurrogate(message.charCodeAt(cut - 1))) cut--;
  return `${message.slice(0, cut)}…`;
}

function poolStatus({ ref, membership, slots }: PoolOutcome): PoolStatus {
  const status: PoolStatus = {
    name: ref.name,
    service: ref.service,
    port: ref.port,
    servers: slots.live,
    readyServers: slots.ready,
    holes: slots.holes,
  };
  if (membership.state !== 'Found') status.reason = membership.state;
  else if (membership.members.length === 0) status.reason = 'NoServers';
  else if (slots.ready === 0) status.reason = 'NoReadyServers';
  return status;
}

type Readiness = { reason: ReadyReason; message: string };

/** A pool whose membership is in `state`: what each reason's message reads of it. */
type PoolIn<S extends Membership['state']> = PoolOutcome & { membership: Extract<Membership, { state: S }> };
const isIn =
  <S extends Membership['state']>(state: S) =>
  (p: PoolOutcome): p is PoolIn<S> =>
    p.membership.state === state;

/** `servers` and `readyServers`: the pools' totals, as the status reports them. */
function readiness(input: StatusInput, servers: number, readyServers: number): Readiness {
  // Metacontroller still syncs a proxy being deleted (foreground deletion, another finalizer) and writes its
  // status, but no longer applies its children: whatever they show, nothing will be created or updated.
  const deletion = input.parent.metadata.deletionTimestamp;
  if (deletion !== undefined) {
    return { reason: 'Deleting', message: `the proxy is being deleted (since ${deletion}): its children are no longer updated, and go with it` };
  }
  // Before the pools and the rollout: while it lasts, new pods crash and running ones keep an older config.
  const tooOld = input.tooOldFor;
  if (tooOld !== undefined) {
    const whose = input.parent.spec.mcrouter?.image === undefined ? " (the hook's default)" : '';
    return {
      reason: 'McrouterTooOld',
      message:
        `mcrouter image ${input.mcrouterImage}${whose} is mcrouter ${tooOld.version.major}.${tooOld.version.minor}, which cannot load the ${tooOld.hash} hash the spec asks for ` +
        `(mcrouter ${tooOld.since.major}.${tooOld.since.minor} or later): set spec.mcrouter.image to one; until then running pods keep the config they have, and new pods fail to start`,
    };
  }
  // Before the pools too: the Deployment stays as it is until the spec is fixed. Only while the observed one is not
  // the one asked for: should the API server take it after all (a check of ours stricter than a newer version's), it is.
  const fault = deploymentIsCurrent(input) ? undefined : input.templateFault();
  if (fault) {
    return {
      reason: 'InvalidSpec',
      message:
        `${fault.field}: ${fault.message}: the API server refuses Deployment ${mcrouterName(input.parent)} with it, ` +
        'so its pods keep the spec they have until this is fixed; the config and the other children are applied',
    };
  }
  const pools = poolsReadiness(input);
  const rollout = rolloutReadiness(input, servers, readyServers);
  // A proxy parked on purpose is where it was asked to be, whatever its pools lack (memcached parked with it):
  // no wait of its own runs, nor turns Stalled. What they lack matters once it serves again: the message says it.
  if (rollout.reason !== 'ScaledToZero') return pools ?? rollout;
  return pools ? { reason: rollout.reason, message: `${rollout.message}; once it serves: ${pools.message}` } : rollout;
}

/** Why some pool cannot serve (its Service or port missing, no servers, none ready), or undefined when every pool can. */
function poolsReadiness({ pools, failing, parent, scaledToZero }: StatusInput): Readiness | undefined {
  const missing = pools.filter(isIn('ServiceNotFound'));
  if (missing.length > 0) {
    const names = listed(missing.map((p) => p.ref.service));
    return {
      reason: 'ServiceNotFound',
      message: `Service ${names} not found in namespace ${parent.metadata.namespace}${keptNote(missing, failing)}`,
    };
  }
  const noPort = pools.filter(isIn('PortNotFound'));
  if (noPort.length > 0) {
    const what = listed(
      noPort.map((p) => {
        const available = listed(p.membership.available);
        // A Service without ports (headless or ExternalName) takes a port number: only a name can miss.
        return `Service ${p.ref.service} has no port ${JSON.stringify(p.ref.port)} (${available ? `ports: ${available}` : 'it lists none: give the port number'})`;
      }),
      '; ',
    );
    return { reason: 'PortNotFound', message: `${what}${keptNote(noPort, failing)}` };
  }
  const empty = pools.filter(isIn('Found')).filter((p) => p.membership.members.length === 0);
  if (empty.length > 0) {
    const whyWithoutPort = ({ membership: { withoutPort, misnamed } }: PoolIn<'Found'>) => {
      const lacking = withoutPort - misnamed;
      if (misnamed === 0) return 'their pods lack its target port';
      if (lacking === 0) return `they are written by hand or by another controller and name no port as the Service names it, or one numbered outside 1-${PORT_MAX}`;
      return `${lacking} on pods that lack its target port, ${misnamed} written by hand or by another controller, naming no port as the Service names it, or one numbered outside 1-${PORT_MAX}`;
    };
    const bare = empty.filter((p) => p.membership.withoutPort === 0);
    // Why none, where the request tells: nobody writes a selector-less Service's endpoints but its owner, and a
    // StatefulSet scaled to 0 has no pods to list.
    const unselected = bare.filter((p) => !p.membership.selector);
    const idle = bare.filter((p) => p.membership.selector).map((p) => ({ p, sets: scaledToZero(p.ref.service) }));
    const plain = idle.filter(({ sets }) => sets.length === 0).map(({ p }) => p);
    const what = [
      ...(plain.length > 0 ? [`Service ${listed(plain.map((p) => p.ref.service))} has no endpoints`] : []),
      ...(unselected.length > 0
        ? [`Service ${listed(unselected.map((p) => p.ref.service))} has no selector, and no endpoints written for it`]
        : []),
      ...idle.filter(({ sets }) => sets.length > 0).map(({ p, sets }) => `Service ${p.ref.service} has no endpoints: StatefulSet ${listed(sets)} ${sets.length === 1 ? 'is' : 'are'} scaled to 0`),
      // Listed, yet none is a server: `kubectl get endpointslices` shows them, so say why.
      ...empty
        .filter((p) => p.membership.withoutPort > 0)
        .map((p) => `Service ${p.ref.service} lists ${plural(p.membership.withoutPort, 'endpoint')}, none with port ${JSON.stringify(p.ref.port)}: ${whyWithoutPort(p)}`),
    ];
    return { reason: 'NoServers', message: `${listed(what, '; ')}${keptNote(empty, failing)}` };
  }
  // Not-ready endpoints stay servers (a readiness blip must not reshuffle the keys), but a pool with none
  // ready is one whose requests go to pods Kubernetes does not count as serving: starting, failing, or terminating.
  const unready = pools.filter((p) => p.slots.ready === 0);
  if (unready.length > 0) {
    const unreadyServers = unready.reduce((n, p) => n + p.slots.live, 0);
    return {
      reason: 'NoReadyServers',
      message:
        `Service ${listed(unready.map((p) => p.ref.service))} has no ready endpoint (${plural(unreadyServers, 'server')} in the config, none ready): ` +
        'mcrouter still routes keys there, to pods Kubernetes does not count as serving (starting, failing or terminating)',
    };
  }
  return undefined;
}

/** Whether the children are there and the mcrouter Deployment serves this spec, with this config mounted. */
function rolloutReadiness(input: StatusInput, servers: number, readyServers: number): Readiness {
  const { deployment, configMapExists, serviceExists } = input.observed;
  if (!deployment || !configMapExists || !serviceExists) return childrenNotCreated(input);
  return (
    deploymentUpdate(input, deployment) ??
    deploymentRollout(input, deployment) ??
    configMapReadiness(input) ??
    proxyAvailable(input, deployment, servers, readyServers)
  );
}

/** Which of the proxy's children Metacontroller has yet to create, while one is missing. */
function childrenNotCreated({ observed, parent }: StatusInput): Readiness {
  const { deployment } = observed;
  const name = mcrouterName(parent);
  const notCreated = [
    deployment ? undefined : `Deployment ${name}`,
    observed.configMapExists ? undefined : `ConfigMap ${name}`,
    observed.serviceExists ? undefined : `Service ${proxyServiceName(parent)}`,
  ].filter((m) => m !== undefined);
  // Another child there means Metacontroller has applied an answer: one still missing may have been refused.
  const blocked = deployment || observed.configMapExists || observed.serviceExists ? `; ${notCreatedCauses(parent)}` : '';
  return { reason: 'Progressing', message: `waiting for ${notCreated.join(', ')} to be created${blocked}` };
}

/**
 * Why a child is still missing once Metacontroller has applied an answer that asks for it, as childrenNotCreated and
 * the PodDisruptionBudget's note (podDisruptionBudgetNote) say it. A create the API server refuses shows as a
 * SyncError event on the proxy; one that fails because an object of that name exists without this proxy as owner
 * Metacontroller only logs.
 */
const notCreatedCauses = (parent: MemcachedProxy): string =>
  `if that lasts, the API server may have refused it (kubectl describe mp ${parent.metadata.name} says why), or an object of that name that this proxy does not own may be in the way`;

/**
 * Why the Deployment is not yet the one this spec asks for, as its controller sees it (scaled outside the proxy, not
 * updated by Metacontroller yet, a generation not observed yet), or undefined once it is.
 */
function deploymentUpdate(input: StatusInput, deployment: Deployment): Readiness | undefined {
  const { desiredReplicas, parent } = input;
  const name = mcrouterName(parent);
  const current = deploymentIsCurrent(input);
  // Scaled by hand (`kubectl scale`) or by a HorizontalPodAutoscaler: the spec hash covers spec.mcrouter, so
  // this is not the proxy's doing, and Metacontroller sets the count back with this answer.
  const scaled = deployment.spec?.replicas;
  if (current && scaled !== undefined && scaled !== desiredReplicas) {
    return {
      reason: 'Progressing',
      message: `Deployment ${name} was scaled to ${plural(scaled, 'replica')} outside the proxy, which wants ${desiredReplicas}: set back now; scale with spec.mcrouter.replicas`,
    };
  }
  // Metacontroller applies the children after this answer: until then the Deployment is the one built from the old spec.
  if (!current) {
    // With reload Rollout the pod template carries the config's hash: a new server list is a new template too.
    const what = rollsOnConfig(parent.spec.mcrouter) ? "the proxy's spec and server list (reload: Rollout)" : "the proxy's spec";
    return { reason: 'Progressing', message: `waiting for Deployment ${name} to be updated to ${what}` };
  }
  const generation = deployment.metadata.generation ?? 0;
  const deploymentStatus = deployment.status ?? {};
  // Until the Deployment controller has seen the latest spec, its replica counts describe the old one.
  if ((deploymentStatus.observedGeneration ?? 0) < generation) {
    return {
      reason: 'Progressing',
      message: `waiting for Deployment ${name} to observe generation ${generation} (observed ${deploymentStatus.observedGeneration ?? 'none'})`,
    };
  }
  return undefined;
}

/**
 * Where the Deployment's replicas stand against the ones wanted (scaled to zero, past its progress deadline, none
 * available, scaling down, rolling out), or undefined once every wanted replica is updated and available.
 */
function deploymentRollout({ desiredReplicas, parent }: StatusInput, deployment: Deployment): Readiness | undefined {
  const name = mcrouterName(parent);
  const deploymentStatus = deployment.status ?? {};
  // A Deployment of 0 replicas counts as available, yet no pod serves the proxy's Service. Asked once the
  // Deployment has caught up and its ReplicaSet has let its pods go (status.replicas counts the pods not yet
  // terminating): until then they still serve.
  const running = deploymentStatus.replicas ?? 0;
  if (desiredReplicas === 0 && running === 0) {
    return { reason: 'ScaledToZero', message: `spec.mcrouter.replicas is 0: no mcrouter pod serves Service ${proxyServiceName(parent)}` };
  }
  const updated = deploymentStatus.updatedReplicas ?? 0;
  const available = deploymentStatus.availableReplicas ?? 0;
  const old = running - updated;
  const progressing = deploymentStatus.conditions?.find((c) => c.type === 'Progressing');
  // Pods the ReplicaSet could not create (a quota, a namespace's Pod Security level, an admission webhook): the
  // cause, which the counts alone would hide behind "rolling out" until the progress deadline.
  const failure = deploymentStatus.conditions?.find((c) => c.type === 'ReplicaFailure' && c.status === 'True');
  const failed = failure ? `; ${failure.reason ?? 'ReplicaFailure'}: ${failure.message ?? 'pods cannot be created'}` : '';
  // The Deployment's available count takes old pods and new alike: while old ones run, say so, or a stuck rollout
  // (a new image that never starts) reads as if its new pods were up.
  const stillOld = old > 0 ? ` (old ones included), ${plural(old, 'old replica')} still running` : '';
  if (progressing?.status === 'False' && progressing.reason === 'ProgressDeadlineExceeded') {
    return {
      reason: 'ProgressDeadlineExceeded',
      message: `Deployment ${name} stopped rolling out (${progressing.message ?? 'progress deadline exceeded'}): ${updated} of ${desiredReplicas} replicas updated, ${available} available${stillOld}${failed}`,
    };
  }
  // No old replica, some wanted ones not available: new pods of a scale-up (or pods a quota keeps from being
  // created), or pods that failed since. The Deployment's conditions cannot tell these apart (a scale-up keeps
  // NewReplicaSetAvailable), so none is called a rollout: with maxUnavailable 0, a rollout keeps old replicas.
  // Nor does the Deployment controller time either out (it estimates no progress while its one ReplicaSet has
  // every replica and the rollout that made it ended, nor while paused), but for the last step of a rollout (old
  // pods gone, Progressing still ReplicaSetUpdated), which its deadline times. When none is available (the proxy
  // serves nothing), the proxy times the wait itself: a reason of its own, under the deadline a pool's waits
  // have. Not while some serve: a scale-up waiting on new nodes makes progress the hook cannot see in one sync.
  if (old === 0 && available < desiredReplicas) {
    const underDeploymentDeadline =
      progressing !== undefined && progressing.reason !== 'NewReplicaSetAvailable' && progressing.reason !== 'DeploymentPaused';
    return {
      reason: available === 0 && !underDeploymentDeadline ? 'NoAvailableReplicas' : 'Progressing',
      message: `Deployment ${name} has ${available} of ${desiredReplicas} replicas available${failed}`,
    };
  }
  // A scale-down the ReplicaSet has not carried out yet: more pods than wanted, none of them old.
  if (old === 0 && running > desiredReplicas) {
    return { reason: 'Progressing', message: `Deployment ${name} is scaling down: ${plural(running, 'replica')}, ${desiredReplicas} wanted` };
  }
  if (updated < desiredReplicas || old > 0 || available < updated) {
    // Paused by hand (`kubectl rollout pause`), the Deployment goes no further until resumed.
    const doing = progressing?.reason === 'DeploymentPaused' ? `is paused (kubectl rollout resume deployment/${name})` : 'rolling out';
    return {
      reason: 'Progressing',
      message: `Deployment ${name} ${doing}: ${updated} of ${desiredReplicas} replicas updated, ${available} available${stillOld}${failed}`,
    };
  }
  return undefined;
}

/**
 * Why the ConfigMap does not hold the config asked for: it has lacked it past its grace (ConfigNotApplied), or
 * Metacontroller has yet to apply a new spec's config. Undefined when it holds it, or the wait does not matter.
 */
function configMapReadiness(input: StatusInput): Readiness | undefined {
  const { observed, parent } = input;
  const name = mcrouterName(parent);
  const behind = observed.configBehind;
  const graceLeft = configGraceLeft(behind?.since, input.now);
  if (behind && graceLeft !== undefined && graceLeft <= 0) {
    const held = behind.configHash === undefined ? 'no config' : `config ${behind.configHash}`;
    return {
      reason: 'ConfigNotApplied',
      message:
        `ConfigMap ${name} has held ${held} since ${behind.since}, not the one asked for (configHash ${input.configHash}), and mcrouter serves what it holds: ` +
        `the API server refused the update (kubectl describe mp ${parent.metadata.name} shows the SyncError; "metadata.annotations: Too long" is a config past the size Metacontroller can apply, README Limits), ` +
        'or the ConfigMap was changed and Metacontroller has not set it back',
    };
  }
  // A new spec's routes are in the ConfigMap alone (with reload Watch, the Deployment's spec hash leaves the
  // config out): until Metacontroller has applied it, the proxy serves the old routes. Asked last, so that what
  // the Deployment says comes first, and only while the proxy is not Ready at this generation: endpoint changes
  // rewrite the config too, and a Ready proxy stays Ready while mcrouter picks them up.
  const previous = readyCondition(parent.status);
  const readyAtThisGeneration = previous?.status === 'True' && previous.observedGeneration === parent.metadata.generation;
  if (!readyAtThisGeneration && !observed.configApplied) {
    return { reason: 'Progressing', message: `waiting for ConfigMap ${name} to hold the new config` };
  }
  return undefined;
}

/**
 * What a proxy whose children all serve this spec and config reports: its servers, pools and mcrouter replicas, and
 * a PodDisruptionBudget it wants and lacks (podDisruptionBudgetNote).
 */
function proxyAvailable(input: StatusInput, deployment: Deployment, servers: number, readyServers: number): Readiness {
  const available = deployment.status?.availableReplicas ?? 0;
  // Ready asks for a ready server in every pool, not for all: the message says when some are not.
  const notAll = readyServers < servers ? ` (${readyServers} ready)` : '';
  return {
    reason: 'Available',
    message: `${plural(servers, 'server')}${notAll} in ${plural(input.pools.length, 'pool')}; ${plural(available, 'mcrouter replica')} available${podDisruptionBudgetNote(input)}`,
  };
}

/**
 * The PodDisruptionBudget this spec wants, while it is not there: its name and why, or '' (it is there, or not
 * wanted). Without it nothing of the proxy's holds node drains to one mcrouter pod at a time, yet the proxy
 * serves: Ready keeps its status and reason, and its message says so.
 *
 * Only Available carries it. It is the reason a user stops looking at, so the one a missing PodDisruptionBudget
 * would otherwise leave silent. And it is reached only once the observed Deployment carries this spec's hash,
 * which covers spec.mcrouter.replicas: Metacontroller has applied an answer that asked for the PodDisruptionBudget
 * (it applies every child of an answer in one pass, going on past a failed create), so the budget's absence is not
 * that of the sync before the apply (replicas 1 to 2, whose Deployment is "to be updated"). Every other reason is
 * Ready False over a problem to act on first, after which the proxy reaches Available, and the note; on those the
 * note would lengthen a message that may be cut at its limit, and in a rollout could show while Metacontroller's
 * cache of PodDisruptionBudgets lags its cache of Deployments. A missing child also asks for a resync (sync.ts,
 * missingChildResync), so the note goes once the PodDisruptionBudget is created.
 */
function podDisruptionBudgetNote({ observed, desiredReplicas, parent }: StatusInput): string {
  if (observed.podDisruptionBudgetExists || !wantsPodDisruptionBudget(desiredReplicas)) return '';
  return `; PodDisruptionBudget ${mcrouterName(parent)} not created (node drains may evict more than one mcrouter pod at a time); ${notCreatedCauses(parent)}`;
}

/**
 * How long `target` may be: it is `kubectl get mp`'s column, and 4,096 pools of 63-character names would make it
 * 256 KiB of every status. The pools that fit, then how many more (status.pools lists them all).
 */
const TARGET_MAX_LENGTH = 256;

function targetOf(names: string[]): string {
  const all = names.join(',');
  if (all.length <= TARGET_MAX_LENGTH) return all;
  let shown = 0;
  let length = 0;
  // Room for the tail: ",… (4096 more)" is at most 14 characters.
  while (shown < names.length && length + names[shown]!.length + 1 <= TARGET_MAX_LENGTH - 14) length += names[shown++]!.length + 1;
  return `${names.slice(0, shown).join(',')},… (${names.length - shown} more)`;
}

/**
 * Says what becomes of the requests of each pool without members: it still routes to the servers of the current
 * config; or the requests the route sends it fail (`failing`: an ErrorRoute in its place, as a sharded rule keeps
 * its position and a lone pool is the route); or a replicated rule leaves it out and its other replicas serve.
 */
function keptNote(pools: PoolOutcome[], failing: ReadonlySet<string>): string {
  const kept = pools.filter((p) => p.slots.servers.length > 0);
  const failed = pools.filter((p) => p.slots.servers.length === 0 && failing.has(p.ref.name));
  const leftOut = pools.filter((p) => p.slots.servers.length === 0 && !failing.has(p.ref.name));
  // Of one fate, the message's Services are the subject; of several, each is named, as pools: one Service behind
  // two ports may be on two sides. The others' requests failing must not hide behind a note about the kept ones.
  const mixed = [kept, failed, leftOut].filter((list) => list.length > 0).length > 1;
  const one = (list: PoolOutcome[]) => (mixed ? list.length : new Set(list.map((p) => p.ref.service)).size) === 1;
  const subject = (list: PoolOutcome[], object = false) =>
    mixed ? `${one(list) ? 'pool' : 'pools'} ${listed(list.map((p) => p.ref.name))}` : one(list) ? 'it' : object ? 'them' : 'they';
  const until = (list: PoolOutcome[]) => `until ${one(list) ? 'it has' : 'they have'} servers`;
  const notes: string[] = [];
  if (kept.length > 0) {
    const keeping = `keeping the ${plural(kept.reduce((n, p) => n + p.slots.live, 0), 'server')} of the current config`;
    notes.push(mixed ? `${keeping} for ${subject(kept)}` : keeping);
  }
  if (failed.length > 0) notes.push(`requests routed to ${subject(failed, true)} fail ${until(failed)}`);
  if (leftOut.length > 0) {
    notes.push(`${subject(leftOut)} ${one(leftOut) ? 'is left out of its replicated rule' : 'are left out of their replicated rules'} ${until(leftOut)}`);
  }
  return `; ${notes.join('; ')}`;
}

/**
 * kstatus' own conditions (sigs.k8s.io/cli-utils: Flux, kpt, Config Sync judge health by them), present only
 * while True. From Ready alone kstatus cannot tell a stuck proxy from a slow one (False is InProgress until the
 * tool's timeout), and its releases before it learnt Ready count a custom resource Current as soon as it reports
 * its generation. Reconciling: on its way (children, a rollout). Stalled: the Deployment gave up, the ConfigMap
 * has not taken the config past its grace, or the spec asks for what cannot run (an mcrouter too old, a pod
 * template the API server refuses). Reconciling until the deadline: a wait that can end by itself but may need a
 * person, Stalled once the proxy has waited RECONCILING_DEADLINE_SECONDS on it (a pool's reasons: a Service or its
 * pods; and no mcrouter replica available where the Deployment sets no deadline). Not Progressing: a rollout has
 * the Deployment's own deadline (which gives ProgressDeadlineExceeded) and restarts it on each step, where a count
 * of ours would stall a long rollout that is making progress, and a scale-up while some replicas serve makes
 * progress one sync cannot see (waiting on new nodes); a ConfigMap the API server refuses is ConfigNotApplied after
 * CONFIG_APPLY_GRACE_SECONDS. Neither for a proxy scaled to zero, which is where it was asked to be, nor for one
 * being deleted, which kstatus reads from its deletionTimestamp.
 *
 * One row per reason, none optional: a reason added to READY_REASONS does not compile until its row says which,
 * and the status tables' kstatus cells (README.md, docs/api.md) are tested against the rows.
 */
export type KstatusRule = 'neither' | 'Reconciling' | 'Reconciling until the deadline' | 'Stalled';
export const KSTATUS_RULES: Readonly<Record<ReadyReason, KstatusRule>> = {
  Deleting: 'neither',
  ServiceNotFound: 'Reconciling until the deadline',
  PortNotFound: 'Reconciling until the deadline',
  NoServers: 'Reconciling until the deadline',
  NoReadyServers: 'Reconciling until the deadline',
  ScaledToZero: 'neither',
  Progressing: 'Reconciling',
  NoAvailableReplicas: 'Reconciling until the deadline',
  ProgressDeadlineExceeded: 'Stalled',
  ConfigNotApplied: 'Stalled',
  McrouterTooOld: 'Stalled',
  InvalidSpec: 'Stalled',
  Available: 'neither',
};

/** The reasons the deadline runs for (KSTATUS_RULES). */
export const RECONCILING_DEADLINE_REASONS: ReadonlySet<ReadyReason> = new Set(
  (Object.keys(KSTATUS_RULES) as ReadyReason[]).filter((reason) => KSTATUS_RULES[reason] === 'Reconciling until the deadline'),
);

/** Seconds until a wait since `since` is past the deadline (waitLeft), NaN for an unreadable time. */
const deadlineLeft = (since: string | undefined, now: string): number =>
  since === undefined ? Number.NaN : waitLeft(RECONCILING_DEADLINE_SECONDS, since, now);

/**
 * Whether the previous status's condition goes on in this one: the same status, and for kstatus' conditions the
 * same reason at the same generation. Its lastTransitionTime is then carried; for those, it is when the wait began.
 */
const goesOn = (previous: Condition | undefined, status: Condition['status'], reason: ReadyReason, generation: number | undefined): previous is Condition =>
  previous?.status === status && (previous.type === READY_CONDITION || (previous.reason === reason && previous.observedGeneration === generation));

/**
 * The kstatus condition for `reason` at `generation`. A proxy that has waited past the deadline on the same
 * reason at the same generation is Stalled, and stays so while both hold: a new reason, or a new spec, is
 * progress, and the wait starts anew. The wait's start is the kstatus condition's lastTransitionTime, which
 * statusOf renews on such a change.
 */
function kstatusOf(previous: MemcachedProxyStatus | null | undefined, reason: ReadyReason, generation: number | undefined, now: string): 'Reconciling' | 'Stalled' | undefined {
  const rule = KSTATUS_RULES[reason];
  if (rule === 'neither') return undefined;
  if (rule !== 'Reconciling until the deadline') return rule;
  if (goesOn(conditionOf(previous, 'Stalled'), 'True', reason, generation)) return 'Stalled';
  const reconciling = conditionOf(previous, 'Reconciling');
  return goesOn(reconciling, 'True', reason, generation) && deadlineLeft(reconciling.lastTransitionTime, now) <= 0 ? 'Stalled' : 'Reconciling';
}

/**
 * Seconds until the proxy of `status` (this sync's) turns Stalled if nothing changes, while it waits on one of
 * RECONCILING_DEADLINE_REASONS: Metacontroller syncs again only on a change, so the hook asks for a sync then.
 */
export function reconcilingDeadlineIn(status: MemcachedProxyStatus, now: string): number | undefined {
  const reconciling = conditionOf(status, 'Reconciling');
  if (reconciling === undefined || !RECONCILING_DEADLINE_REASONS.has(reconciling.reason as ReadyReason)) return undefined;
  const left = deadlineLeft(reconciling.lastTransitionTime, now);
  return Number.isNaN(left) ? undefined : left;
}

export function statusOf(input: StatusInput): MemcachedProxyStatus {
  const { parent, pools, now } = input;
  const { deployment } = input.observed;
  const servers = pools.reduce((n, p) => n + p.slots.live, 0);
  const readyServers = pools.reduce((n, p) => n + p.slots.ready, 0);
  const { reason, message } = readiness(input, servers, readyServers);
  const generation = parent.metadata.generation;
  const condition = (type: string, status: Condition['status']): Condition => {
    const previous = conditionOf(parent.status, type);
    // Carried over while the condition goes on, so that repeated syncs give identical bytes.
    const holds = goesOn(previous, status, reason, generation);
    const written: Condition = {
      type,
      status,
      reason,
      message: withinLimit(message),
      lastTransitionTime: holds && previous.lastTransitionTime ? previous.lastTransitionTime : now,
    };
    if (generation !== undefined) written.observedGeneration = generation;
    return written;
  };
  const conditions = [condition(READY_CONDITION, reason === 'Available' ? 'True' : 'False')];
  const kstatus = kstatusOf(parent.status, reason, generation, now);
  if (kstatus) conditions.push(condition(kstatus, 'True'));

  const status: MemcachedProxyStatus = {};
  if (generation !== undefined) status.observedGeneration = generation;
  status.target = targetOf(pools.map((p) => p.ref.name));
  status.servers = servers;
  status.readyServers = readyServers;
  status.pools = pools.map(poolStatus);
  status.configHash = input.configHash;
  status.configSince = input.configSince;
  const { configBehind, configBehindShown } = input.observed;
  if (configBehind && (configBehindShown || reason === 'ConfigNotApplied')) status.configBehind = configBehind;
  status.replicas = deployment?.status?.replicas ?? 0;
  status.readyReplicas = deployment?.status?.readyReplicas ?? 0;
  if (input.lastChange) status.lastChange = input.lastChange;
  status.conditions = conditions;
  return status;
}
