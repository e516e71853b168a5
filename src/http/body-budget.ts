/**
 * How many bytes of request bodies, and of answers, the server holds while they pass. Each body is bounded
 * by the body limit, but not their sum: connections that each send most of a body of the largest size and
 * hold it open would add up to more memory than the container has. An answer is about as large as its
 * body (the Deployment carries the spec's `affinity` and the like), and one the client does not read stays
 * in the server's memory: forty such clients held 1.1 GB.
 *
 * The bytes that have arrived are what counts, not what the headers announce: headers alone hold nothing,
 * so a client cannot refuse everyone else without sending (and holding) the bytes itself. A body that would
 * not fit even as announced is refused before it is read; one that passes the budget while it arrives is
 * cut there. A body's bytes come back once it has been read whole (it is parsed and answered in the same
 * turn of the event loop), or its request is gone; an answer's, once the kernel has taken it, or its
 * connection is gone. A connection whose answer has had no byte taken for a whole period of the request
 * timeout is cut.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { rawAnswer } from './client-errors.js';
import type { BodyBudgetAction } from './metrics.js';

/**
 * What a body that does not fit now is answered: 429 with `Retry-After`, the one answer Metacontroller reads as
 * "ask again later". It requeues the proxy after that many seconds, with no `SyncError` event (pkg/hooks/webhook.go
 * and the composite controller's sync()); any other status is a `SyncError` event on the proxy and a retry on the
 * workqueue's backoff, which starts at 5 ms: under load, at once. Metacontroller releases from before that
 * handling (metacontroller/metacontroller#533, of 2022) take it as any other error.
 */
export const BUSY_STATUS_CODE = 429;
const RETRY_AFTER_SECONDS = 1;

export interface BodyBudget {
  /** The bytes of bodies being read and answers waiting to be sent that the server holds at most. */
  limit: number;
  /** Fastify's limit for one body: a body over it is left to Fastify, whose 413 says that it can never fit (a 429 would ask for it again). */
  bodyLimit: number;
  /** The period (the request timeout; 0: none) after which an answer that no byte of has been taken in it is cut, with its connection. */
  stallMs: number;
  /** Counts what the budget turns away. */
  count: (action: BodyBudgetAction) => void;
}

/**
 * Counts each body's bytes as Fastify reads them (a preParsing hook, before any other reader), and each
 * answer's that wait to be sent, against the budget's `limit`.
 */
export function installBodyBudget(app: FastifyInstance, { limit, bodyLimit, stallMs, count }: BodyBudget): void {
  let held = 0;
  const message = () => `request bodies being read and answers being sent hold ${held} of IN_FLIGHT_BODY_LIMIT (${limit} bytes): this one does not fit now; retry`;
  // curl asks before it sends a body of more than 1 MiB (`Expect: 100-continue`), and Node would say yes before
  // any check: a body refused after that (413, 429) is cut while curl sends it, and curl shows "Broken pipe", not
  // the answer that says why. The go-ahead comes here, once the body may be read; a refusal comes instead of it.
  // Node asks only for an HTTP/1.1 request (an HTTP/1.0 client must get no 1xx: RFC 9110).
  const asking = new WeakSet<IncomingMessage>();
  app.server.on('checkContinue', (request: IncomingMessage, response: ServerResponse) => {
    asking.add(request);
    app.server.emit('request', request, response);
  });
  app.addHook('preParsing', (request, reply, payload, done) => {
    // Node has checked the header: digits only, and one value. A body over BODY_LIMIT is Fastify's 413.
    const announced = Number(request.headers['content-length'] ?? 0);
    if (announced <= bodyLimit && held + announced > limit) {
      count('refused');
      const text = message();
      request.log.warn({ statusCode: BUSY_STATUS_CODE }, text);
      // Unread: the connection is closed, so what it still sends is never read.
      void reply.code(BUSY_STATUS_CODE).header('retry-after', String(RETRY_AFTER_SECONDS)).header('connection', 'close').send({ message: text });
      return;
    }
    if (announced <= bodyLimit && asking.has(request.raw)) reply.raw.writeContinue();
    let mine = 0;
    // Before Fastify's own reader, in the same turn: every chunk goes through both.
    payload.on('data', (chunk: Buffer) => {
      if (mine < 0) return;
      mine += chunk.length;
      held += chunk.length;
      if (held <= limit || mine > bodyLimit) return;
      count('cut');
      cut(request, reply, message());
      held -= mine;
      mine = -1;
    });
    const release = () => {
      if (mine > 0) held -= mine;
      mine = -1;
    };
    // Read whole; or gone with its connection (a pipelined request whose connection closed before its turn
    // never closes its response, but its request closes); or answered unread (415, 404).
    payload.once('end', release);
    request.raw.once('close', release);
    reply.raw.once('close', release);
    done(null, payload);
  });
  // Every answer, the hooks' and /metrics' alike (a /metrics of 10,000 proxies' series is megabytes). Fastify
  // writes the answer when the last onSend hook calls done, so once done returns (every onSend hook here calls
  // it at once) the bytes the kernel has not taken are there to be read.
  app.addHook('onSend', (request, reply, payload, done) => {
    done(null, payload);
    holdWaiting(request, reply);
  });
  function holdWaiting(request: FastifyRequest, reply: FastifyReply): void {
    const response = reply.raw;
    const waiting = response.writableLength;
    // Nearly every answer: the kernel took it whole at once.
    if (waiting === 0 || response.writableFinished) return;
    // The connection's: an answer to a pipelined request waits unsent behind the one before it, with no socket yet.
    const socket = request.raw.socket;
    held += waiting;
    // Checked each period, not by the socket's own timeout, which Node keeps for the keep-alive timeout. A period
    // in which the kernel took no byte of it: the client is not reading.
    let left = waiting;
    const stalled = stallMs > 0 ? setInterval(() => {
      if (response.writableLength >= left) socket.destroy();
      left = response.writableLength;
    }, stallMs).unref() : undefined;
    const release = () => {
      held -= waiting;
      clearInterval(stalled);
      response.off('finish', release).off('close', release);
      socket.off('close', release);
    };
    // Taken whole ('finish'), or gone with its connection ('close'). A pipelined answer whose connection closes
    // before its turn neither finishes nor closes: the socket's close.
    response.once('finish', release).once('close', release);
    socket.once('close', release);
  }
}

/**
 * Ends a request in the middle of its body: a 429 if its answer is the connection's next and has not begun
 * (written to the socket, as answerClientError answers what Node's parser refuses), then the connection closed, so that no more of the
 * body is read. A client still sending may see the connection reset before it reads the 429 (TCP resets a
 * connection closed with data unread); Metacontroller then retries on its backoff.
 */
function cut(request: FastifyRequest, reply: FastifyReply, message: string): void {
  const socket = request.raw.socket as Socket & { _httpMessage?: unknown };
  request.log.warn({ statusCode: BUSY_STATUS_CODE }, message);
  if (socket.writable && socket._httpMessage === reply.raw && !reply.raw.headersSent) {
    socket.write(rawAnswer(BUSY_STATUS_CODE, message, `Retry-After: ${RETRY_AFTER_SECONDS}\r\n`));
  }
  // Destroys the socket it came on.
  request.raw.destroy();
}
