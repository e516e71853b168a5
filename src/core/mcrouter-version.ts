/**
 * What an mcrouter image can load, as far as its tag says: the hook writes the config the spec asks for
 * whatever the image (docs/topologies.md, "Hashes and salts"), and the status says when the image cannot load it.
 */
import type { Hash } from '../api/memcached-proxy.js';
import { HASH_TRAITS } from './hashes.js';
import type { RouteNode } from './topology.js';

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

/** A hash the spec shards by that the image's mcrouter cannot load: the version its tag names, and the first that can. */
export interface UnsupportedHash {
  hash: Hash;
  version: McrouterVersion;
  since: McrouterVersion;
}

/** The first sharded rule's hash, in the topology's order, that the mcrouter `image`'s tag names a version too old for (a replicated rule's hash is never used). */
export function unsupportedHashOf(image: string, root: RouteNode): UnsupportedHash | undefined {
  const version = mcrouterVersionOf(image);
  if (version === undefined) return undefined;
  const visit = (node: RouteNode): UnsupportedHash | undefined => {
    const since = node.type === 'sharded' ? HASH_TRAITS[node.hash].since : undefined;
    if (since !== undefined && before(version, since)) return { hash: node.hash, version, since };
    if (node.kind === 'leaf') return undefined;
    for (const child of node.children) {
      const found = visit(child);
      if (found) return found;
    }
    return undefined;
  };
  return visit(root);
}
