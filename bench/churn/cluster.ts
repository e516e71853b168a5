/**
 * The cluster the churn bench plays out: memcached workloads whose pods come,
 * restart and go the way the StatefulSet and ReplicaSet controllers move them,
 * step by step as the endpoints show it. Each step also says which pod's
 * memcached process stops (its data is gone) or starts (empty).
 *
 * Pod IPs come from a seeded generator, so every run plays the same cluster.
 */
import type { Pod } from '../../test/fixtures/cluster.js';
import { seeded } from '../../test/helpers/seeded.js';

export type { Pod };

export interface ProcessChange {
  pod: string;
  /** `start` always means a fresh, empty memcached. */
  action: 'stop' | 'start';
}

/** One state of the endpoints, as Metacontroller would sync it. */
export interface Step {
  note: string;
  pods: Pod[];
  processes: ProcessChange[];
}

export type EventKind = 'scale-up' | 'scale-down' | 'restart' | 'replace' | 'delete';

export interface ChurnEvent {
  kind: EventKind;
  title: string;
  /** The pods before the event, all ready. */
  before: Pod[];
  steps: Step[];
}

const NODES = 3;
/** The characters Kubernetes uses in generated name suffixes. */
const NAME_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

/**
 * Pod IPs as a CNI hands them out: one /24 per node, a free host address in
 * it; a restarted pod gets a new one. Never reused within a run.
 */
class PodNetwork {
  private readonly used = new Set<string>();
  constructor(private readonly random: () => number) {}

  place(): { ip: string; node: string } {
    const node = Math.floor(this.random() * NODES);
    for (;;) {
      const ip = `10.244.${node}.${2 + Math.floor(this.random() * 252)}`;
      if (this.used.has(ip)) continue;
      this.used.add(ip);
      return { ip, node: `node-${node}` };
    }
  }
}

/** A memcached workload: its Service, its pods, and the events that change them. */
export class Workload {
  private pods: Pod[] = [];
  /** A StatefulSet's `spec.replicas`: changed at the start of a scale, before its controller moves a pod. */
  desiredReplicas = 0;
  private readonly network: PodNetwork;
  private readonly random: () => number;
  /** Every pod this workload ever had, by IP, to name the addresses a config still shows. */
  private readonly byIp = new Map<string, string>();
  private events: ChurnEvent[] = [];
  private current: { event: ChurnEvent } | undefined;

  constructor(
    readonly kind: 'StatefulSet' | 'Deployment',
    /** The workload's and its Service's name. */
    readonly name: string,
    seed: number,
  ) {
    this.random = seeded(seed);
    this.network = new PodNetwork(this.random);
  }

  /** Whether the Service is headless, so that pods are addressed by DNS name. */
  get headless(): boolean {
    return this.kind === 'StatefulSet';
  }

  /** The pods as they stand now. */
  get state(): Pod[] {
    return this.pods.map((p) => ({ ...p }));
  }

  /** The events played so far, in order. */
  get played(): readonly ChurnEvent[] {
    return this.events;
  }

  /** The initial pods, all ready; returns their names, whose memcached must be started. */
  create(replicas: number): string[] {
    this.desiredReplicas = replicas;
    for (let i = 0; i < replicas; i++) this.pods.push(this.newPod(i));
    return this.pods.map((p) => p.name);
  }

  scaleStatefulSet(replicas: number): void {
    const from = this.pods.length;
    const up = replicas > from;
    this.event(up ? 'scale-up' : 'scale-down', `scaled ${from} → ${replicas}`, () => {
      this.desiredReplicas = replicas;
      // OrderedReady: one pod at a time, upwards when growing, from the top when shrinking.
      for (let n = from; n < replicas; n++) {
        const pod = { ...this.newPod(n), ready: false };
        this.step(`${pod.name} created, not ready`, [{ pod: pod.name, action: 'start' }], () => this.pods.push(pod));
        this.step(`${pod.name} ready`, [], () => (pod.ready = true));
      }
      for (let n = from - 1; n >= replicas; n--) this.remove(this.byName(`${this.name}-${n}`));
    });
  }

  /** A StatefulSet pod deleted and recreated under its own name: a rolling restart's step, or `kubectl delete pod`. */
  restartStatefulSetPod(ordinal: number): void {
    const name = `${this.name}-${ordinal}`;
    this.event('restart', `rolling restart: ${name}`, () => {
      const pod = this.byName(name);
      this.step(`${name} terminating`, [{ pod: name, action: 'stop' }], () => (pod.terminating = true));
      this.step(`${name} gone`, [], () => this.pods.splice(this.pods.indexOf(pod), 1));
      const back = { ...this.newPod(ordinal), ready: false };
      this.step(`${name} back with IP ${back.ip}, not ready`, [{ pod: name, action: 'start' }], () => this.pods.push(back));
      this.step(`${name} ready`, [], () => (back.ready = true));
    });
  }

  /**
   * A Deployment pod deleted: the ReplicaSet creates a replacement at once.
   * Which shows first, the old pod's endpoint leaving or the new one's
   * arriving, is a race; both orders are played.
   */
  replaceDeploymentPod(victim: string, order: 'old-gone-first' | 'new-up-first'): void {
    const title =
      order === 'old-gone-first'
        ? 'pod replaced (old endpoint gone before the new pod has an IP)'
        : 'pod replaced (new pod up while the old one terminates)';
    this.event('replace', title, () => {
      const old = this.byName(victim);
      const fresh = { ...this.newPod(this.pods.length), ready: false };
      this.step(`${this.short(old.name)} terminating`, [{ pod: old.name, action: 'stop' }], () => (old.terminating = true));
      const oldGone = () => this.step(`${this.short(old.name)} gone`, [], () => this.pods.splice(this.pods.indexOf(old), 1));
      if (order === 'old-gone-first') oldGone();
      this.step(`${this.short(fresh.name)} (${fresh.ip}) not ready`, [{ pod: fresh.name, action: 'start' }], () => this.pods.push(fresh));
      this.step(`${this.short(fresh.name)} ready`, [], () => (fresh.ready = true));
      if (order === 'new-up-first') oldGone();
    });
  }

  /** A Deployment scaled down by one, the ReplicaSet deleting `victim`. */
  deleteDeploymentPod(victim: string): void {
    this.event('delete', `scaled ${this.pods.length} → ${this.pods.length - 1}: ${this.short(victim)} (${this.byName(victim).ip}) deleted`, () =>
      this.remove(this.byName(victim)),
    );
  }

  scaleUpDeployment(): void {
    this.event('scale-up', `scaled ${this.pods.length} → ${this.pods.length + 1}`, () => {
      const pod = { ...this.newPod(this.pods.length), ready: false };
      this.step(`${this.short(pod.name)} (${pod.ip}) not ready`, [{ pod: pod.name, action: 'start' }], () => this.pods.push(pod));
      this.step(`${this.short(pod.name)} ready`, [], () => (pod.ready = true));
    });
  }

  private remove(pod: Pod): void {
    this.step(`${this.short(pod.name)} terminating`, [{ pod: pod.name, action: 'stop' }], () => (pod.terminating = true));
    this.step(`${this.short(pod.name)} gone`, [], () => this.pods.splice(this.pods.indexOf(pod), 1));
  }

  private event(kind: EventKind, title: string, play: () => void): void {
    const event: ChurnEvent = { kind, title, before: this.state, steps: [] };
    this.current = { event };
    play();
    this.current = undefined;
    this.events.push(event);
  }

  private step(note: string, processes: ProcessChange[], change: () => void): void {
    if (!this.current) throw new Error('a step outside an event');
    change();
    this.current.event.steps.push({ note, pods: this.state, processes });
  }

  private byName(name: string): Pod {
    const pod = this.pods.find((p) => p.name === name);
    if (!pod) throw new Error(`no pod ${name}`);
    return pod;
  }

  /** A config's server address as a short label: the StatefulSet pod's hostname, or the Deployment pod's name suffix. */
  label(address: string): string {
    const host = address.replace(/:\d+$/, '');
    const pod = this.byIp.get(host);
    if (pod) return this.kind === 'Deployment' ? suffixOf(pod) : pod;
    // A StatefulSet pod's DNS name: HOSTNAME.SERVICE.NAMESPACE.svc.DOMAIN.
    return host.split('.')[0]!;
  }

  /** A pod's name for step notes: a Deployment pod's random suffix is what tells it apart. */
  short(name: string): string {
    return this.kind === 'Deployment' ? `pod ${suffixOf(name)}` : name;
  }

  private newPod(ordinal: number): Pod {
    const { ip, node } = this.network.place();
    const pod = this.podAt(ordinal, ip, node);
    this.byIp.set(ip, pod.name);
    return pod;
  }

  private podAt(ordinal: number, ip: string, node: string): Pod {
    if (this.kind === 'StatefulSet') {
      const name = `${this.name}-${ordinal}`;
      return { name, ip, node, hostname: name };
    }
    const suffix = Array.from({ length: 5 }, () => NAME_ALPHABET[Math.floor(this.random() * NAME_ALPHABET.length)]).join('');
    return { name: `${this.name}-6d5f8c7b9-${suffix}`, ip, node };
  }
}

const suffixOf = (name: string): string => name.slice(name.lastIndexOf('-') + 1);
