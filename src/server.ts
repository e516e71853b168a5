/**
 * The HTTP shell around the pure hooks: parsing, validation, status codes,
 * logs and metrics. `buildServer` is what tests and main.ts both call.
 */
import { STATUS_CODES, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import Fastify, { LogController, errorCodes, type FastifyBaseLogger, type FastifyError, type FastifyReply, type FastifyRequest, type FastifyServerOptions } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { CustomizeRequest, SyncRequest } from './api/hook.js';
import { READY_CONDITION } from './api/memcached-proxy.js';
import { customize } from './core/customize.js';
import { locateJsonHazard } from './core/json-hazard.js';
import { SpecError } from './core/spec-check.js';
import { sync } from './core/sync.js';
import { createBodyBudget } from './http/body-budget.js';
import { clientErrorOf, createMetrics, outcomeOf, type Hook } from './http/metrics.js';
import { fieldOfPath, refusalOf, type SchemaError } from './http/validation-error.js';
import { boundedValidatorCompiler } from './http/validator.js';
import { DEFAULT_SETTINGS, IN_FLIGHT_BODIES } from './settings.js';

export interface ServerOptions {
  /** A pino logger, or Fastify's logger options; off by default (tests). */
  logger?: FastifyBaseLogger | FastifyServerOptions['logger'];
  bodyLimit?: number;
  /** Bytes of request bodies read at once (503 beyond; default IN_FLIGHT_BODIES × bodyLimit). */
  inFlightBodyLimit?: number;
  /** Deepest nesting a JSON body may have (400 beyond). */
  jsonDepthLimit?: number;
  /** How long a client may take to send a whole request (408 beyond; 0: no limit). */
  requestTimeoutMs?: number;
  clusterDomain?: string;
  mcrouterImage?: string;
  exporterImage?: string;
  /** The time of each sync; tests pass a fixed one. */
  clock?: () => Date;
  /** Node process metrics on /metrics (off in tests that build many servers). */
  processMetrics?: boolean;
  /** How long a proxy's server gauges outlive its last sync (default PROXY_SERIES_TTL_MS in http/metrics.ts). */
  proxySeriesTtlMs?: number;
  /** How many proxies get server gauges at most (default MAX_PROXY_SERIES in http/metrics.ts). */
  maxProxySeries?: number;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** Fails /readyz from now on, so Kubernetes stops sending requests before the server closes. */
    drain(): void;
    /** Requests read and not yet answered (nor cut off with their connection). */
    answering(): number;
  }
}

/**
 * How long an idle keep-alive connection stays open: longer than the 90 s after which Go's default
 * transport (Metacontroller's hook client) drops an idle connection, so that the client, not the
 * server, closes it. When the server closes first, a POST the client sent down the closing connection
 * fails, and Go does not retry a POST: the sync waits for Metacontroller's backoff.
 */
const KEEP_ALIVE_TIMEOUT_MS = 95_000;

/**
 * How often Node looks for requests past the request timeout (its default, 30 s, would let a 30 s
 * timeout run to 60 s). A pass walks only the open connections: a handful from Metacontroller.
 */
const TIMEOUT_CHECK_INTERVAL_MS = 1000;

/** How long a connection may stay silent once the server closes before it counts as unused (preClose). */
const UNUSED_AFTER_MS = 250;

/** Node's own limit on receiving a request's headers. */
const NODE_HEADERS_TIMEOUT_MS = 60_000;

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

/**
 * Why a JSON body cannot be read as sent, or undefined: compressed (Fastify decodes no content coding, so
 * a gzip body would be refused as "not JSON", and a body merely labelled gzip taken as it is; nor does Node
 * undo a transfer coding but chunked), or in a
 * character set other than UTF-8, the only one JSON has (RFC 8259): Fastify decodes every body as UTF-8,
 * whatever the label says, and a Latin-1 body's accented letters would become U+FFFD. Both are 415, as RFC 9110 has it for a content coding or media type the server does not take.
 */
function unreadableBody(headers: IncomingHttpHeaders): string | undefined {
  const coding = headers['content-encoding']?.trim().toLowerCase();
  if (coding && coding !== 'identity') return `content-encoding ${coding.slice(0, 64)} is not supported: send the body uncompressed`;
  // Node undoes `chunked` alone: the body of `Transfer-Encoding: gzip, chunked` would reach JSON.parse still coded.
  const transfer = headers['transfer-encoding']?.toLowerCase();
  const other = transfer?.split(',').map((c) => c.trim()).find((c) => c !== 'chunked' && c !== 'identity' && c !== '');
  if (other !== undefined) return `transfer-encoding ${other.slice(0, 64)} is not supported: send the body with no transfer coding but chunked`;
  const type = headers['content-type'];
  const charset = type?.includes(';') ? CHARSET.exec(type)?.[1]?.toLowerCase() : undefined;
  if (charset && !UTF8_CHARSETS.has(charset)) return `content-type charset ${charset.slice(0, 64)} is not supported: JSON is UTF-8`;
  return undefined;
}
const CHARSET = /;\s*charset\s*=\s*"?([^";\s]*)/i;
/** What a UTF-8 body may be labelled with (ASCII is UTF-8). */
const UTF8_CHARSETS = new Set(['utf-8', 'utf8', 'us-ascii']);

/** The namespace and name of a hook body's parent, as far as the body (valid or not) has them as strings. */
function parentOf(body: unknown): { namespace?: string; name?: string } {
  const metadata = (body as { parent?: { metadata?: { namespace?: unknown; name?: unknown } } } | undefined)?.parent?.metadata;
  const found: { namespace?: string; name?: string } = {};
  // Cut to a name's longest: a body the schema refused may have anything there.
  if (typeof metadata?.namespace === 'string') found.namespace = metadata.namespace.slice(0, 253);
  if (typeof metadata?.name === 'string') found.name = metadata.name.slice(0, 253);
  return found;
}

/** A path Fastify cannot decode (`/%zz`): JSON {message} and a warn line, as every other refusal. */
function badUrl(error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  request.log.warn({ statusCode: 400 }, error.message);
  void reply.code(400).send({ message: error.message });
}

/**
 * What Node's HTTP parser refuses or cuts, answered as every other error is, `{message}` saying what to change
 * (Fastify's own answer is `{error, message: "Client Timeout", statusCode}`). No route runs for these.
 */
function answerClientError(error: NodeJS.ErrnoException, socket: Duplex, requestTimeout: number): void {
  // A reset connection has nobody to answer.
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const [code, message] =
    error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? [408, timeoutMessage(requestTimeout)]
      : error.code === 'HPE_HEADER_OVERFLOW'
        ? [431, "the request headers are larger than Node's limit (16 KiB unless --max-http-header-size raises it)"]
        : error.code === 'HPE_CHUNK_EXTENSIONS_OVERFLOW'
          ? [413, "the request's chunk extensions are larger than Node's limit"]
          : [400, `not an HTTP/1.1 request Node can parse (${error.code ?? error.message})`];
  const body = JSON.stringify({ message });
  // As Node's own handler (the same internal field): never into an answer already under way, when a
  // pipelined request behind it timed out.
  const answering = (socket as { _httpMessage?: { _headerSent?: boolean } })._httpMessage;
  if (socket.writable && !answering?._headerSent) {
    socket.write(`HTTP/1.1 ${code} ${STATUS_CODES[code]}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nContent-Type: application/json; charset=utf-8\r\nConnection: close\r\n\r\n${body}`);
  }
  socket.destroy(error);
}

/** A header's value in a message or log line: quoted, escaped beyond ASCII (Node reads header bytes as Latin-1), cut at 128. */
function shownHeader(value: string): string {
  const quoted = JSON.stringify(value.slice(0, 128)).replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return value.length > 128 ? `${quoted}…` : quoted;
}

/** Node cuts the headers at the smaller of REQUEST_TIMEOUT_MS and its own 60 s, and the whole request at the first. */
function timeoutMessage(requestTimeout: number): string {
  if (requestTimeout === 0) return `the request headers did not arrive within ${NODE_HEADERS_TIMEOUT_MS} ms`;
  if (requestTimeout <= NODE_HEADERS_TIMEOUT_MS) return `the request did not arrive within REQUEST_TIMEOUT_MS (${requestTimeout} ms)`;
  return `the request headers did not arrive within ${NODE_HEADERS_TIMEOUT_MS} ms, or the whole request within REQUEST_TIMEOUT_MS (${requestTimeout} ms)`;
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
    const reason = clientErrorOf(error.code);
    if (reason) metrics.clientError(reason);
  });
  // Before Fastify reads a body: one that would pass the budget is refused unread, and the connection closed
  // (what it still sends is not read). Metacontroller retries a 503 with its backoff.
  const inFlightBodyLimit = options.inFlightBodyLimit ?? IN_FLIGHT_BODIES * bodyLimit;
  const budget = createBodyBudget(inFlightBodyLimit, bodyLimit);
  app.addHook('onRequest', (request, reply, done) => {
    const bytes = budget.take(request.headers);
    if (bytes === 0) return done();
    if (bytes === undefined) {
      metrics.overloaded();
      const message = `other requests' bodies take ${budget.taken} of IN_FLIGHT_BODY_LIMIT (${inFlightBodyLimit} bytes): this one does not fit now; retry`;
      request.log.warn({ statusCode: 503 }, message);
      void reply.code(503).header('retry-after', '1').header('connection', 'close').send({ message });
      return;
    }
    reply.raw.once('close', () => budget.give(bytes));
    done();
  });
  // Only bodies have schemas; a failing one is answered with the errors of the one value to blame.
  app.setValidatorCompiler(boundedValidatorCompiler);
  // Only JSON is a hook request: Fastify's text/plain parser would let other bodies reach validation.
  app.removeContentTypeParser('text/plain');
  // What Fastify's JSON parser refuses (secure-json-parse, prototype keys at 'error'), with its errors,
  // and JSON nested too deep for the steps after parsing, which recurse: one walk finds both.
  const jsonDepthLimit = options.jsonDepthLimit ?? DEFAULT_SETTINGS.jsonDepthLimit;
  app.removeContentTypeParser('application/json');
  // As a string: Fastify decodes the whole body as UTF-8 into the V8 heap. Decoding an ASCII body as
  // Latin-1 is faster on its own, but Node keeps a Latin-1 string of more than 1 MB outside the heap, in
  // malloc'd memory that only a full collection frees: under 5,000-member syncs the malloc heap held
  // 63 MB instead of 27 MB, and each request cost 0.7 ms more CPU (docs/performance.md).
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body: string, done) => {
    // A path that is no hook's is answered 404 (and counted so) whatever its body: a hook URL with a typo says so.
    if (request.is404) return done(null, undefined);
    const unreadable = unreadableBody(request.headers);
    if (unreadable) return done(Object.assign(new Error(unreadable), { statusCode: 415 }), undefined);
    if (body.length === 0) return done(new errorCodes.FST_ERR_CTP_EMPTY_JSON_BODY(), undefined);
    let value: unknown;
    try {
      // A byte order mark is not JSON, but secure-json-parse skips one.
      value = JSON.parse(body.charCodeAt(0) === 0xfeff ? body.slice(1) : body);
    } catch {
      return done(new errorCodes.FST_ERR_CTP_INVALID_JSON_BODY(), undefined);
    }
    const found = locateJsonHazard(value, jsonDepthLimit);
    if (found === undefined) return done(null, value);
    const field = fieldOfPath(found.path);
    const message =
      found.hazard === 'depth'
        ? `${field}: JSON nested more than ${jsonDepthLimit} levels deep`
        : `${field}: a "__proto__" key or a "constructor" object with a "prototype" is refused: either can pollute prototypes`;
    // The body did parse: its warn line names the proxy, as every later refusal's does.
    done(Object.assign(new Error(message), { statusCode: 400, field, proxy: parentOf(value) }), undefined);
  });

  const now = rfc3339Clock(clock);
  const images = {
    mcrouter: options.mcrouterImage ?? DEFAULT_SETTINGS.mcrouterImage,
    exporter: options.exporterImage ?? DEFAULT_SETTINGS.exporterImage,
  };
  const clusterDomain = options.clusterDomain ?? DEFAULT_SETTINGS.clusterDomain;
  let draining = false;
  app.decorate('drain', () => {
    draining = true;
  });
  // Requests being answered, and for each open connection how many of them it carries and when it opened: a
  // pipelined request whose connection closes before its turn never gets a response 'close' (Node even emits
  // 'request' for those it had read after the connection is gone), so a connection's close ends whatever it
  // still carried.
  let answering = 0;
  const connections = new Map<Socket, { carried: number; openedAt: number }>();
  app.server.prependListener('request', (request: IncomingMessage, response: ServerResponse) => {
    const connection = connections.get(request.socket as Socket);
    if (connection === undefined) return; // its connection has closed already
    connection.carried++;
    answering++;
    response.once('close', () => {
      if (!connections.has(request.socket as Socket)) return; // counted off with its connection
      connection.carried--;
      answering--;
    });
  });
  app.decorate('answering', () => answering);
  // Node's server.close() closes idle keep-alive connections but passes over one that has not sent a request
  // yet (an HTTP client may open one ahead of need and leave it unused, as Go's transport keeps the loser of
  // a dial race), and stops the timeout checks that would answer it 408: it would hold the shutdown until
  // SHUTDOWN_TIMEOUT_MS. Such a connection is closed once it is UNUSED_AFTER_MS old and Node has read from
  // it since: a connection accepted in one turn of the event loop is read from in the next, later still on a
  // busy hook, so a request on its way when close() begins is answered rather than reset.
  app.server.on('connection', (socket: Socket) => {
    connections.set(socket, { carried: 0, openedAt: performance.now() });
    socket.once('close', () => {
      answering -= connections.get(socket)?.carried ?? 0;
      connections.delete(socket);
    });
  });
  // After the timers, the loop reads sockets before it runs what setImmediate queued: the check comes after a read.
  const closeIfUnused = (socket: Socket) =>
    setImmediate(() => {
      if (socket.bytesRead === 0) socket.destroy();
    });
  // close() itself waits one turn too: a request already in an idle keep-alive connection's buffer is read,
  // and answered, before Node closes the idle ones.
  app.addHook('preClose', (done) => {
    setImmediate(() => {
      const now = performance.now();
      for (const [socket, { openedAt }] of connections) {
        if (socket.bytesRead === 0) setTimeout(closeIfUnused, Math.max(0, openedAt + UNUSED_AFTER_MS - now), socket).unref();
      }
      done();
    });
  });
  // While draining, every answer closes its connection, also of requests that arrived before:
  // a keep-alive client (Metacontroller) then reconnects through the Service, which no longer lists
  // this pod, instead of sending its next call down a socket that close() is about to cut; and no
  // socket left idle after an in-flight answer can hold close() open.
  app.addHook('onSend', (request, reply, payload, done) => {
    if (draining && request.raw.httpVersionMajor < 2) reply.header('connection', 'close');
    done(null, payload);
  });
  // Every answer of a hook route counts, including those Fastify gives before the handler runs
  // (bad JSON, wrong content type, too large): a route's own hooks run for those too.
  const countAs = (hook: Hook) => (_request: FastifyRequest, reply: FastifyReply, done: () => void) => {
    metrics.observe(hook, outcomeOf(reply.statusCode), reply.elapsedTime / 1000);
    done();
  };

  const answer = (reply: FastifyReply, code: number, body: string) =>
    reply.code(code).type('application/json; charset=utf-8').send(body);
  /** A request that failed validation or the spec rules: 400/422 with the field, never applied. */
  const refuse = (reply: FastifyReply, error: unknown) => {
    const validation = (error as { validation?: SchemaError[] }).validation;
    const refusal = validation
      ? refusalOf(validation)
      : error instanceof SpecError
        ? { statusCode: 422 as const, field: error.field, message: error.message }
        : undefined;
    if (!refusal) throw error;
    // Which proxy, when the body says so: with many proxies, a field alone does not tell whose spec to fix.
    reply.log.warn({ ...parentOf(reply.request.body), field: refusal.field, statusCode: refusal.statusCode }, refusal.message);
    return answer(reply, refusal.statusCode, JSON.stringify({ message: refusal.message, field: refusal.field }));
  };

  app.post('/sync', { schema: { body: SyncRequest }, attachValidation: true, onResponse: countAs('sync') }, (request, reply) => {
    if (request.validationError) return refuse(reply, request.validationError);
    const { parent } = request.body;
    let response;
    try {
      response = sync(request.body, { now: now(), clusterDomain, images });
    } catch (error) {
      return refuse(reply, error);
    }
    const { status } = response;
    const { namespace, name } = parent.metadata;
    metrics.proxyServers(namespace, name, status.servers ?? 0, status.readyServers ?? 0);
    // The one line per sync: enough to follow a proxy's servers and config over time.
    request.log.info(
      {
        namespace,
        name,
        servers: status.servers,
        readyServers: status.readyServers,
        configHash: status.configHash,
        ready: status.conditions?.find((c) => c.type === READY_CONDITION)?.reason,
        // Since the request arrived: body parsing and validation included.
        durationMs: Math.round(reply.elapsedTime * 100) / 100,
      },
      'sync',
    );
    return answer(reply, 200, JSON.stringify(response));
  });

  app.post('/customize', { schema: { body: CustomizeRequest }, attachValidation: true, onResponse: countAs('customize') }, (request, reply) => {
    if (request.validationError) return refuse(reply, request.validationError);
    try {
      return answer(reply, 200, JSON.stringify(customize(request.body)));
    } catch (error) {
      return refuse(reply, error);
    }
  });

  app.get('/healthz', (_request, reply) => reply.send({ status: 'ok' }));
  app.get('/readyz', (_request, reply) =>
    draining ? reply.code(503).send({ status: 'draining' }) : reply.send({ status: 'ready' }),
  );
  app.get('/metrics', async (_request, reply) =>
    reply.type(metrics.registry.contentType).send(await metrics.registry.metrics()),
  );

  // Logged like every other refusal: a CompositeController with a typo in its hook path shows here only.
  app.setNotFoundHandler((request, reply) => {
    const message = `${request.method} ${request.url.slice(0, 256)} not found: the hooks are POST /sync and POST /customize`;
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
      // Refused before any route ran (not JSON, a prototype key, too deep, too large, not JSON at all): one line, as refuse() logs.
      request.log.warn({ ...error.proxy, ...(field === undefined ? {} : { field }), statusCode: code }, message);
    }
    return reply.code(code).send(field === undefined ? { message } : { message, field });
  });
  return app;
}
