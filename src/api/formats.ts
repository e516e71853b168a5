/**
 * String formats Kubernetes enforces, as pattern source that JavaScript and RE2 read alike (no lookahead,
 * no named group), so that the CRD (the API server), the chart's values schema (helm) and the hook's own
 * checks use one spelling of each.
 */

/**
 * A time as the API server stores a metav1.Time and `Date.parse` reads it: RFC 3339 with `Z` or a numeric
 * offset. The `date-time` format (TypeBox's) also takes a leap second (`23:59:60Z`) and an RFC 9557 suffix
 * (`…Z[UTC]`), which the API server's check refuses and `Date.parse` reads as NaN: a wait counted from one
 * would never end, and a status that copied one would be refused whole. The date's and time's ranges are the format's.
 */
export const RFC3339_TIME = '^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-5][0-9](\\.[0-9]+)?([Zz]|[+-][0-9]{2}:[0-9]{2})$';

/** A DNS label (RFC 1123, RFC 1035): at most 63 characters. Namespaces, Service and port names, hostnames. */
export const DNS_LABEL_MAX_LENGTH = 63;
/** A Service's name (RFC 1035), so the proxy's and its pools' too: a lower-case label starting with a letter. */
export const DNS1035_LABEL = '^[a-z]([-a-z0-9]*[a-z0-9])?$';
/** Namespaces, and a Service port's name: a lower-case label that may start with a digit. */
export const DNS1123_LABEL = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$';

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
/** The longest image reference the hook's schemas take: a name of 255, a tag of 128 and a sha256 digest fit. */
export const IMAGE_REFERENCE_MAX_LENGTH = 512;
/** A container's imagePullPolicy. */
export const PULL_POLICIES = ['Always', 'IfNotPresent', 'Never'] as const;
/** Kubernetes' TotalAnnotationSizeLimitB: all of an object's annotations together, keys and values in UTF-8; one value may take it all (a Vault agent template). */
export const ANNOTATIONS_MAX_BYTES = 256 * 1024;
/** The highest TCP port number. */
export const PORT_MAX = 65535;

/** A label value (what a nodeSelector matches): the API server refuses the Deployment for anything else. */
export const LABEL_VALUE = '^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$';
export const LABEL_VALUE_MAX_LENGTH = 63;

/**
 * The name part of a qualified name (label and annotation keys, extended resources, a toleration's key): what a
 * label value is, but not empty. An optional DNS-1123 subdomain prefix and a slash may come before it.
 */
export const QUALIFIED_NAME_PART = '^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$';
export const QUALIFIED_NAME_PART_MAX_LENGTH = 63;
/** A qualified name's longest: a DNS name's prefix, the slash, and the name part. */
export const QUALIFIED_NAME_MAX_LENGTH = DNS_NAME_MAX_LENGTH + 1 + QUALIFIED_NAME_PART_MAX_LENGTH;

/**
 * An endpoint's address, as far as it reaches a server name: an IP (v4, or v6) or a DNS name (an FQDN slice's).
 * The API server checks each form; this keeps out what no form has (spaces, quotes, line breaks, a slash).
 */
export const ENDPOINT_ADDRESS = '^[0-9A-Za-z.:-]+$';

export const ABSOLUTE_PATH = '^/';

/** resource.Quantity's grammar, as Kubernetes' CRD generator (controller-gen) writes it for every ResourceList. */
export const QUANTITY = '^(\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))))?$';

/**
 * What each pattern asks for, as Kubernetes' own validation words it: a refusal says this instead of quoting
 * an expression (the image reference's runs to 400 characters).
 */
export const PATTERN_MEANINGS: ReadonlyMap<string, string> = new Map([
  [DNS1035_LABEL, "must be a DNS-1035 label: lower case letters, digits or '-', starting with a letter and ending with a letter or digit (e.g. 'my-name')"],
  [DNS1123_LABEL, "must be a DNS-1123 label: lower case letters, digits or '-', starting and ending with a letter or digit (e.g. 'my-name' or '123-abc')"],
  [LABEL_VALUE, "must be a label value: empty, or letters, digits, '-', '_' or '.', starting and ending with a letter or digit (e.g. 'MyValue' or 'my_value')"],
  [QUANTITY, "must be a quantity: a number with an optional suffix (e.g. '500m', '0.5', '128Mi' or '1Gi')"],
  [IMAGE_REFERENCE, "must be an image reference as the kubelet reads one: an optional registry host, a repository path in lower case, then an optional ':tag' and '@algorithm:hex' digest, without spaces (e.g. 'ghcr.io/org/mcrouter:0.41.0')"],
  [ABSOLUTE_PATH, "must be an absolute path (starting with '/')"],
  [ENDPOINT_ADDRESS, "must be an IP address or a DNS name: letters, digits, '.', ':' or '-'"],
  [DNS1123_SUBDOMAIN, "must be a DNS-1123 subdomain: lower case letters, digits, '-' or '.', starting and ending with a letter or digit (e.g. 'example.com')"],
]);
