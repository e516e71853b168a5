/**
 * How many bytes of request bodies the server reads and holds at once. Each body is bounded by the body
 * limit, but not their sum: connections that each send a body of the largest size and hold it open would
 * add up to more memory than the container has. A request whose body would pass the budget is refused
 * before its body is read; its bytes come back when its response closes.
 *
 * A reservation is made from the headers, before the body arrives, and so a client could hold the budget
 * with headers alone and refuse everyone else. When room is needed, a request that has not sent its whole
 * body STALLED_AFTER_MS after its headers is cut (Metacontroller sends each body at once): holding the
 * budget takes sending it, again and again. The request that found no room is refused all the same, and the
 * cut comes only once Node has read what the sockets hold: after the event loop was busy (a large body
 * parsed), a body that arrived meanwhile would look late until then.
 */
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import type { FastifyInstance } from 'fastify';
import type { BodyBudgetAction } from './metrics.js';

/** How long a request may take to send its body before it can be cut to make room for another. */
export const STALLED_AFTER_MS = 1000;

/**
 * The least a request with a body takes: what its objects hold anyway, and a bound on how many requests
 * the budget keeps track of at once.
 */
const LEAST_BYTES = 1024;

export interface Reservation {
  readonly bytes: number;
  readonly request: IncomingMessage;
  readonly since: number;
}

export interface BodyBudget {
  /** `request`'s reservation; none (0) for a request without a body; undefined when it does not fit. */
  take(request: IncomingMessage): Reservation | 0 | undefined;
  /** Gives a reservation back (once: a second call does nothing). */
  give(reservation: Reservation): void;
  /** Bytes taken now. */
  readonly taken: number;
}

/** `cut` ends a request made to make room (its connection is closed); `now` is milliseconds, monotonic. */
export function createBodyBudget(limit: number, bodyLimit: number, cut: (request: IncomingMessage) => void, now: () => number = () => performance.now()): BodyBudget {
  const held = new Set<Reservation>();
  let taken = 0;
  const give = (reservation: Reservation): void => {
    if (held.delete(reservation)) taken -= reservation.bytes;
  };
  /**
   * Gives back what no body will fill: a request whose connection is gone (a pipelined request whose
   * connection closed before its turn never closes its response). Then, if that is not room enough, cuts the
   * requests whose body is late and still is after the sockets have been read (setImmediate runs after the
   * loop's poll phase).
   */
  const makeRoom = (bytes: number): void => {
    const at = now();
    const late: Reservation[] = [];
    for (const reservation of held) {
      const { request, since } = reservation;
      if (request.socket.destroyed) give(reservation);
      else if (!request.complete && at - since >= STALLED_AFTER_MS) late.push(reservation);
    }
    if (late.length === 0 || taken + bytes <= limit) return;
    setImmediate(() => {
      for (const reservation of late) {
        if (!held.has(reservation) || reservation.request.complete) continue;
        give(reservation);
        cut(reservation.request);
      }
    });
  };
  return {
    take(request) {
      const declared = declaredBytes(request.headers, bodyLimit);
      if (declared === 0) return 0;
      const bytes = Math.max(declared, LEAST_BYTES);
      if (taken + bytes > limit) makeRoom(bytes);
      if (taken + bytes > limit) return undefined;
      const reservation = { bytes, request, since: now() };
      held.add(reservation);
      taken += bytes;
      return reservation;
    },
    give,
    get taken() {
      return taken;
    },
  };
}

/**
 * What a body will hold as it arrives: its Content-Length, or the body limit for one sent without (chunked).
 * None for a request without a body, and none for one over the limit, which Fastify refuses unread (413).
 */
function declaredBytes(headers: IncomingHttpHeaders, bodyLimit: number): number {
  const length = headers['content-length'];
  // Node has checked the header: digits only, and one value.
  if (length !== undefined) {
    const bytes = Number(length);
    return bytes > bodyLimit ? 0 : bytes;
  }
  return headers['transfer-encoding'] === undefined ? 0 : bodyLimit;
}

/**
 * Takes each request's body from a budget of `limit` bytes before Fastify reads it, and gives it back when
 * the response closes (answered, or its connection gone). One that does not fit is answered 503 unread, and
 * its connection closed, so that what it still sends is never read; Metacontroller retries a 503 with its
 * backoff. `count` counts what the budget turns away.
 */
export function installBodyBudget(app: FastifyInstance, limit: number, bodyLimit: number, count: (action: BodyBudgetAction) => void): void {
  const budget = createBodyBudget(limit, bodyLimit, (request) => {
    count('cut');
    app.log.warn({ statusCode: 408 }, `a request whose body did not arrive within ${STALLED_AFTER_MS} ms was cut to make room in IN_FLIGHT_BODY_LIMIT`);
    request.socket.destroy();
  });
  app.addHook('onRequest', (request, reply, done) => {
    // Node emits the pipelined requests it had read even once their connection is gone: nothing to read there.
    if (request.raw.socket.destroyed) return done();
    const reservation = budget.take(request.raw);
    if (reservation === 0) return done();
    if (reservation === undefined) {
      count('refused');
      const message = `other requests' bodies take ${budget.taken} of IN_FLIGHT_BODY_LIMIT (${limit} bytes): this one does not fit now; retry`;
      request.log.warn({ statusCode: 503 }, message);
      void reply.code(503).header('retry-after', '1').header('connection', 'close').send({ message });
      return;
    }
    reply.raw.once('close', () => budget.give(reservation));
    done();
  });
}
