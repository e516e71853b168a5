/**
 * The JSON schema of the Helm chart's values (charts/memcached-operator/values.schema.json), which helm
 * checks before it renders anything. What the hook itself reads from its environment (the log levels,
 * the drain's ranges) comes from src/settings.ts, so the chart refuses exactly what the hook would.
 */
import { INTEGER_RANGES, LOG_LEVELS } from '../src/settings.js';

const range = (name: keyof typeof INTEGER_RANGES) => {
  const [minimum, maximum] = INTEGER_RANGES[name];
  return { type: 'integer', minimum, maximum };
};

const stringMap = { type: 'object', additionalProperties: { type: 'string' } };

export function chartValuesSchema() {
  return {
    $schema: 'https://json-schema.org/draft-07/schema#',
    title: 'memcached-operator chart values',
    type: 'object',
    properties: {
      image: {
        type: 'object',
        properties: {
          repository: { type: 'string', minLength: 1 },
          tag: { type: 'string' },
          pullPolicy: { enum: ['Always', 'IfNotPresent', 'Never'] },
        },
      },
      imagePullSecrets: { type: 'array', items: { type: 'object' } },
      replicaCount: { type: 'integer', minimum: 0 },
      logLevel: { enum: LOG_LEVELS },
      clusterDomain: { type: 'string', minLength: 1 },
      mcrouterImage: { type: 'string', minLength: 1 },
      exporterImage: { type: 'string' },
      shutdownDelayMs: range('SHUTDOWN_DELAY_MS'),
      shutdownTimeoutMs: range('SHUTDOWN_TIMEOUT_MS'),
      resources: { type: 'object' },
      podDisruptionBudget: {
        type: 'object',
        properties: {
          enabled: { type: 'boolean' },
          maxUnavailable: { type: ['integer', 'string'] },
        },
      },
      fullnameOverride: { type: 'string' },
      crds: { type: 'object', properties: { install: { type: 'boolean' } } },
      hookTimeout: {
        description: "A Go duration, as Metacontroller's CompositeController reads it: 10s, 1m30s.",
        type: 'string',
        pattern: '^([0-9]+(\\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$',
      },
      podAnnotations: stringMap,
      nodeSelector: stringMap,
      tolerations: { type: 'array', items: { type: 'object' } },
      affinity: { type: 'object' },
    },
  };
}
