/**
 * The HTTP shell around the pure hooks: parsing, validation, status codes,
 * logs and metrics. `buildServer` is what tests and main.ts both call.
 */
import Fastify, { LogController, type FastifyBaseLogger, type FastifyError, type FastifyReply, type FastifyRequest, type FastifyServerOptions } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { CustomizeRequest, SPEC_UNCHECKED, SyncRequest, type SyncResponse } from './api/hook.js';
import { mcrouterReplicasOf } from './api/defaults.js';
import { readyCondition } from './api/proxy-status.js';
import { customize, customizeOfRefusedSpec } from './core/customize.js';
import { SpecError } from './core/spec-check.js';
import { sync, syncOfRefusedSpec } from './core/sync.js';
import { answerBytes } from './http/answer-bytes.js';
import { installBodyBudget } from './http/body-budget.js';
import { NODE_HEADERS_TIMEOUT_MS, answerClientError, clientErrorAnswer, shownHeader } from './http/client-errors.js';
import { installDrain } from './http/drain.js';
import { jsonBodyParser, parentOf } from './http/json-body.js';
import { createMetrics, outcomeOf, type Hook, type HookMetrics } from './http/metrics.js';
import { answerConnect, notFoundMessage } from './http/not-found.js';
import { specRefusal } from './http/spec-refusal.js';
import { storedStatusReader, type StatusSetAside } from './http/stored-status.js';
import { bodilessRefusal, refusalOf, type SchemaError } from './http/validation-error.js';
import { boundedValidatorCompiler } from './http/validator.js';
import { DEFAULT_SETTINGS, defaultInFlightBodyLimit, type Settings } from './settings.js';

/**
 * The settings the server itself uses (settings.ts says what each is; unset, its default there), and what
 * only a caller can give. main.ts passes the settings whole.
 */
export interface ServerOptions
  extends Partial<Pick<Settings, 'bodyLimit' | 'inFlightBodyLimit' | 'jsonDepthLimit' | 'requestTimeoutMs' | 'clusterDomain' | 'mcrouterImage' | 'exporterImage'>> {
  /** A pino logger, or Fastify's logger options; off by default (tests). */
  logger?: FastifyBaseLogger | FastifyServerOptions['logger'];
  /** The time of each sync; tests pass a fixed one. */
  clock?: () => Date;
  /** Node process metrics on /metrics (off in tests that build many servers). */
  processMetrics?: boolean;
  /** How long a proxy's server gauges outlive its last sync (default PROXY_SERIES_TTL_MS in http/metrics.ts). */
  proxySeriesTtlMs?: number;
  /** How many proxies get server gauges at most (default MAX_PROXY_SERIES in http/metrics.ts). */
  maxProxySeries?: number;
}

/**
 * How long an idle keep-alive connection stays open: longer than the 90 s after which Go's default
 * transport (Metacontroller's hook client) drops an idle connection, so that the client, not the
 * server, closes it. When the server closes first, a POST the client sent down the closing connection
 * fails, and Go retries a POST only when none of it was written: the sync waits for Metacontroller's backoff.
 */
const KEEP_ALIVE_TIMEOUT_MS = 95_000;

/**
 * How often Node looks for requests past the request timeout (its default, 30 s, would let a 30 s
 * timeout run to 60 s). A pass walks only the open connections: a handful from Metacontroller.
 */
const TIMEOUT_CHECK_INTERVAL_MS = 1000;

/** Kubernetes' metav1.Time has second precision. */
const rfc3339 = (d: Date) => d.toISOString().replace(/\.\d{3}Z$/, 'Z');

/** The clock as RFC 3339, formatted once per second rather than once per sync. */
function rfc3339Clock(clock: () => Date): () => string {
  let second = Number.NaN;
  let text = '';
  return () => {
    const now = clock();
    const s = Math.floor(now.getTime() / 1000);
    if (s !== second) {
      second = s;
      text = rfc3339(now);
    }
    return text;
  };
}

/** A path Fastify cannot decode (`/%zz`): JSON {message} and a warn line, as every other refusal. */
function badUrl(error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  request.log.warn({ statusCode: 400 }, error.message);
  void reply.code(400).send({ message: error.message });
}

/**
 * What a sync that answers 200 leaves besides its answer: a warn line for the stored status fields set aside, the
 * proxy's gauges (or their removal, for a proxy that goes), and the one info line per sync.
 */
function recordSync(
  log: FastifyBaseLogger,
  metrics: HookMetrics,
  parent: SyncRequest['parent'],
  response: SyncResponse,
  setAside: readonly StatusSetAside[],
  elapsedMs: number,
): void {
  const { status } = response;
  const { namespace, name } = parent.metadata;
  if (setAside.length > 0) {
    metrics.statusSetAside();
    const fields = setAside.map((f) => f.field);
    log.warn(
      { namespace, name, field: fields[0], fields },
      `${setAside.map((f) => f.message).join('; ')}: set aside from the stored status, which this sync's status replaces`,
    );
  }
  const ready = readyCondition(status);
  // A finalized proxy goes too, and its spec may be one the schema refuses.
  if (parent.metadata.deletionTimestamp === undefined && response.finalized !== true) {
    metrics.proxySynced(namespace, name, {
      servers: status.servers ?? 0,
      readyServers: status.readyServers ?? 0,
      ready: ready?.status === 'True',
      replicas: mcrouterReplicasOf(parent.spec.mcrouter),
    });
  } else {
    metrics.proxyGone(namespace, name);
  }
  // The one line per sync: enough to follow a proxy's servers and config over time.
  log.info(
    {
      namespace,
      name,
      servers: status.servers,
      readyServers: status.readyServers,
      configHash: status.configHash,
      ready: ready?.reason,
      // Only on a finalize hook's answer (pino leaves out what is undefined): the proxy's last sync.
      finalized: response.finalized,
      // Since the request arrived: body parsing and validation included.
      durationMs: Math.round(elapsedMs * 100) / 100,
    },
    'sync',
  );
}

export function buildServer(options: ServerOptions = {}) {
  const clock = options.clock ?? (() => new Date());
  const metrics = createMetrics({
    processMetrics: options.processMetrics ?? false,
    now: () => clock().getTime(),
    proxySeriesTtlMs: options.proxySeriesTtlMs,
    maxProxySeries: options.maxProxySeries,
  });
  const isLogger = (l: unknown): l is FastifyBaseLogger => typeof l === 'object' && l !== null && 'child' in l;
  const requestTimeout = options.requestTimeoutMs ?? DEFAULT_SETTINGS.requestTimeoutMs;
  const bodyLimit = options.bodyLimit ?? DEFAULT_SETTINGS.bodyLimit;
  // The headers' timeout no longer than the request's: where it is the longer, Node swaps the two, and
  // a trickled body would be cut only after 60 s. Without a request timeout, the headers keep Node's.
  const headersTimeout = requestTimeout === 0 ? NODE_HEADERS_TIMEOUT_MS : Math.min(NODE_HEADERS_TIMEOUT_MS, requestTimeout);
  const app = Fastify({
    ...(isLogger(options.logger) ? { loggerInstance: options.logger } : { logger: options.logger ?? false }),
    bodyLimit,
    requestTimeout,
    keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS,
    http: { headersTimeout, connectionsCheckingInterval: TIMEOUT_CHECK_INTERVAL_MS },
    // Health checks and every hook call would flood the logs; each sync logs one line of its own.
    logController: new LogController({ disableRequestLogging: true }),
    frameworkErrors: badUrl,
    // A request whose headers arrive once close() has begun (they were on the wire since before) is
    // answered like any other, with Connection: close, not with Fastify's uncounted 503: close() stops new
    // connections, and every answer since the drain ends its connection, so nothing can hold it open.
    return503OnClosing: false,
    clientErrorHandler: (error: NodeJS.ErrnoException, socket) => answerClientError(error, socket, requestTimeout),
  }).withTypeProvider<TypeBoxTypeProvider>();
  // answerClientError answers what Node's parser refuses or cuts (Fastify's listener runs first); no route sees it, so it is counted here.
  app.server.on('clientError', (error: NodeJS.ErrnoException) => {
    const { reason } = clientErrorAnswer(error, requestTimeout);
    if (reason) metrics.clientError(reason);
  });
  answerConnect(app, () => metrics.notFound());
  installBodyBudget(app, {
    limit: options.inFlightBodyLimit ?? defaultInFlightBodyLimit(bodyLimit),
    bodyLimit,
    stallMs: requestTimeout,
    count: (action) => metrics.bodyBudget(action),
  });
  // Only bodies have schemas; a failing one is answered with the errors of the one value to blame.
  app.setValidatorCompiler(boundedValidatorCompiler);
  // Only JSON is a hook request: Fastify's text/plain parser would let other bodies reach validation.
  app.removeContentTypeParser('text/plain');
  // What Fastify's JSON parser refuses (secure-json-parse, prototype keys at 'error'), with its errors,
  // and JSON nested too deep for the steps after parsing, which recurse: one walk finds both.
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, jsonBodyParser(options.jsonDepthLimit ?? DEFAULT_SETTINGS.jsonDepthLimit));

  const now = rfc3339Clock(clock);
  const images = {
    mcrouter: options.mcrouterImage ?? DEFAULT_SETTINGS.mcrouterImage,
    exporter: options.exporterImage ?? DEFAULT_SETTINGS.exporterImage,
  };
  const clusterDomain = options.clusterDomain ?? DEFAULT_SETTINGS.clusterDomain;
  const draining = installDrain(app);
  // Every answer of a hook route counts, including those Fastify gives before the handler runs
  // (bad JSON, wrong content type, too large): a route's own hooks run for those too.
  const countAs = (hook: Hook) => (_request: FastifyRequest, reply: FastifyReply, done: () => void) => {
    metrics.observe(hook, outcomeOf(reply.statusCode), reply.elapsedTime / 1000);
    done();
  };

  const answer = (reply: FastifyReply, code: number, body: string | Buffer) =>
    reply.code(code).type('application/json; charset=utf-8').send(body);
  /** A request that failed validation or the spec rules: 400/422 with the field, never applied. */
  const refuse = (reply: FastifyReply, error: unknown) => {
    const validation = (error as { validation?: SchemaError[] }).validation;
    const refusal = validation
      ? reply.request.body === undefined
        ? bodilessRefusal(reply.request.raw.rawHeaders)
        : refusalOf(validation)
      : error instanceof SpecError
        ? { statusCode: 422 as const, field: error.field, message: error.message }
        : undefined;
    if (!refusal) throw error;
    // Which proxy, when the body says so: with many proxies, a field alone does not tell whose spec to fix.
    reply.log.warn({ ...parentOf(reply.request.body), field: refusal.field, statusCode: refusal.statusCode }, refusal.message);
    return answer(reply, refusal.statusCode, JSON.stringify({ message: refusal.message, field: refusal.field }));
  };

  const readStoredStatus = storedStatusReader();
  // A spec the schema refuses in a body that is otherwise whole: the spec rules' refusal, which customize answers with
  // no related object and a finalize hook's sync with the proxy finalized (core/customize.ts, core/sync.ts).
  const specAlone = { sync: specRefusal(SPEC_UNCHECKED.sync), customize: specRefusal(SPEC_UNCHECKED.customize) };
  app.post('/sync', { schema: { body: SyncRequest }, attachValidation: true, onResponse: countAs('sync') }, (request, reply) => {
    const specRefused = request.validationError && specAlone.sync(request.validationError, request.body);
    if (request.validationError && !specRefused) return refuse(reply, request.validationError);
    const { request: body, setAside } = readStoredStatus(request.body);
    const { parent } = body;
    let response;
    try {
      response = specRefused ? syncOfRefusedSpec(body, specRefused) : sync(body, { now: now(), clusterDomain, images });
    } catch (error) {
      return refuse(reply, error);
    }
    // Once the answer is sure: a spec refused (422) replaces no status, and counts no proxy.
    recordSync(request.log, metrics, parent, response, setAside, reply.elapsedTime);
    return answer(reply, 200, answerBytes(response));
  });

  app.post('/customize', { schema: { body: CustomizeRequest }, attachValidation: true, onResponse: countAs('customize') }, (request, reply) => {
    const specRefused = request.validationError && specAlone.customize(request.validationError, request.body);
    if (request.validationError && !specRefused) return refuse(reply, request.validationError);
    try {
      return answer(reply, 200, JSON.stringify(specRefused ? customizeOfRefusedSpec() : customize(request.body)));
    } catch (error) {
      return refuse(reply, error);
    }
  });

  app.get('/healthz', (_request, reply) => reply.send({ status: 'ok' }));
  app.get('/readyz', (_request, reply) =>
    draining() ? reply.code(503).send({ status: 'draining' }) : reply.send({ status: 'ready' }),
  );
  app.get('/metrics', async (_request, reply) =>
    reply.type(metrics.registry.contentType).send(await metrics.registry.metrics()),
  );

  // Logged like every other refusal: a CompositeController with a typo in its hook path shows here only.
  app.setNotFoundHandler((request, reply) => {
    const message = notFoundMessage(request.method, request.url);
    request.log.warn({ statusCode: 404 }, message);
    metrics.notFound();
    return reply.code(404).send({ message });
  });
  // Every error is JSON {message}, and {field} when one is to blame. Client errors (bad JSON, wrong content
  // type, too large, too deep) keep their 4xx code.
  app.setErrorHandler((error: { statusCode?: number; message: string; field?: string; code?: string; proxy?: ReturnType<typeof parentOf> }, request, reply) => {
    const code = error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 500;
    if (code === 500) {
      request.log.error({ err: error }, 'unexpected error');
      return reply.code(code).send({ message: 'internal error' });
    }
    const { field } = error;
    // Fastify's "Request body is too large" does not say what the limit is, or how to move it.
    // Nor does its "Unsupported Media Type" say which one it wants (curl --data sends a form without -H).
    const contentType = request.headers['content-type'];
    const message =
      error.code === 'FST_ERR_CTP_BODY_TOO_LARGE'
        ? `the request body is larger than BODY_LIMIT (${bodyLimit} bytes): a pool of more pods needs it raised, with the hook's memory limit`
        : error.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE'
          ? `the hooks take JSON: Content-Type must be application/json, not ${contentType === undefined ? 'none' : shownHeader(contentType)}`
          : error.message;
    // A client that went away in the middle of its body (Node: "aborted"), also when Node cut it at the
    // request timeout (answerClientError's 408), is no refusal: nobody reads this answer.
    if (error.code === 'ECONNRESET') {
      request.log.debug({ statusCode: code }, `the client went away: ${message}`);
    } else {
      // Refused before any route ran (not JSON or empty, a prototype key, too deep, too large, not application/json,
      // compressed or not UTF-8): one line, as refuse() logs.
      request.log.warn({ ...error.proxy, ...(field === undefined ? {} : { field }), statusCode: code }, message);
    }
    return reply.code(code).send(field === undefined ? { message } : { message, field });
  });
  return app;
}
