/**
 * String formats Kubernetes enforces, as pattern source that JavaScript and RE2 read alike (no lookahead,
 * no named group), so that the CRD (the API server), the chart's values schema (helm) and the hook's own
 * checks use one spelling of each.
 */

/**
 * A DNS name (RFC 1123: letters, digits and inner hyphens, labels of at most 63), without a trailing dot;
 * its length (at most 253) is checked apart, as maxLength.
 */
export const DNS_NAME = '^[a-zA-Z0-9]([-a-zA-Z0-9]{0,61}[a-zA-Z0-9])?(\\.[a-zA-Z0-9]([-a-zA-Z0-9]{0,61}[a-zA-Z0-9])?)*$';
export const DNS_NAME_MAX_LENGTH = 253;

/** An object name most kinds take (Secrets, ConfigMaps): a DNS name in lower case, at most DNS_NAME_MAX_LENGTH long. */
export const DNS1123_SUBDOMAIN = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$';

const IMAGE_PATH_COMPONENT = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*';
const IMAGE_DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const IMAGE_DOMAIN = `(?:${IMAGE_DOMAIN_COMPONENT}(?:\\.${IMAGE_DOMAIN_COMPONENT})*|\\[[a-fA-F0-9:]+\\])(?::[0-9]+)?`;
/** The repository part of an image reference: its length is limited to 255 apart. */
export const IMAGE_NAME = `(?:${IMAGE_DOMAIN}/)?${IMAGE_PATH_COMPONENT}(?:/${IMAGE_PATH_COMPONENT})*`;
export const IMAGE_NAME_MAX_LENGTH = 255;
/**
 * An image reference as the kubelet parses it (github.com/distribution/reference: ReferenceRegexp): anything
 * else gives the pods InvalidImageName, or, with surrounding whitespace, a Deployment the API server refuses.
 */
const IMAGE_TAG = '[\\w][\\w.-]{0,127}';
const IMAGE_DIGEST = '@[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}';
export const IMAGE_REFERENCE = `^${IMAGE_NAME}(?::${IMAGE_TAG})?(?:${IMAGE_DIGEST})?$`;
/** A chart's image given apart, as `repository` and `tag` joined by a colon: a digest goes after the tag (`0.1.0@sha256:...`). */
export const IMAGE_REPOSITORY = `^${IMAGE_NAME}$`;
export const IMAGE_TAG_AND_DIGEST = `^(?:${IMAGE_TAG}(?:${IMAGE_DIGEST})?)?$`;
