/**
 * What an mcrouter image can load, as far as its tag says: the hook writes the config the spec asks for
 * whatever the image (the README's "Hashes and salts"), and the status says when the image cannot load it.
 */
import type { RouteNode } from './topology.js';

/** The first mcrouter release with the Rendezvous hash (0.37.0, 2018-01); 0.36.0 refuses a config that names it. */
export const RENDEZVOUS_SINCE = { major: 0, minor: 37 } as const;

export interface McrouterVersion {
  major: number;
  minor: number;
}

/**
 * The version an image's tag names (`jphalip/mcrouter:0.36.0`, `mcrouter:v0.41.0-focal`, a dated
 * `v2023.07.17.00`), or undefined: no tag (a registry's port is no tag), one that names no version
 * (`latest`), or an image pinned by digest, whose digest decides what runs, whatever the tag says.
 */
function mcrouterVersionOf(image: string): McrouterVersion | undefined {
  if (image.includes('@')) return undefined;
  const colon = image.lastIndexOf(':');
  if (colon <= image.lastIndexOf('/')) return undefined;
  const version = /^v?(\d+)\.(\d+)(?![\d])/.exec(image.slice(colon + 1));
  return version ? { major: Number(version[1]), minor: Number(version[2]) } : undefined;
}

const before = (v: McrouterVersion, since: McrouterVersion) => v.major < since.major || (v.major === since.major && v.minor < since.minor);

/** Whether a rule of the topology shards by Rendezvous (a replicated rule's hash is never used). */
function shardsByRendezvous(node: RouteNode): boolean {
  if (node.type === 'sharded' && node.hash === 'Rendezvous') return true;
  return node.kind === 'group' && node.children.some(shardsByRendezvous);
}

/** The version of `image`, when its tag names one before the Rendezvous hash and the topology shards by it. */
export function rendezvousUnsupportedBy(image: string, root: RouteNode): McrouterVersion | undefined {
  if (!shardsByRendezvous(root)) return undefined;
  const version = mcrouterVersionOf(image);
  return version && before(version, RENDEZVOUS_SINCE) ? version : undefined;
}
