/** How a field path names a key, the way a Kubernetes user writes one: `.name`, or `["example.com/gpu"]` for any other key. */
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** The step to `key` from the path before it; the first step of a path drops the dot (`spec`, not `.spec`). */
export const keyStep = (key: string, first = false): string => (IDENTIFIER.test(key) ? (first ? key : `.${key}`) : `[${JSON.stringify(key)}]`);
