/**
 * How many bytes of request bodies the server reads and holds at once. Each body is bounded by the body
 * limit, but not their sum: connections that each send a body of the largest size and hold it open would
 * add up to more memory than the container has. A request whose body would pass the budget is refused
 * before its body is read; its bytes come back when its response closes.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { FastifyInstance } from 'fastify';

export interface BodyBudget {
  /** The bytes a request's body takes from the budget (0 for none), or undefined when they do not fit. */
  take(headers: IncomingHttpHeaders): number | undefined;
  give(bytes: number): void;
  /** Bytes taken now. */
  readonly taken: number;
}

export function createBodyBudget(limit: number, bodyLimit: number): BodyBudget {
  let taken = 0;
  return {
    take(headers) {
      const bytes = declaredBytes(headers, bodyLimit);
      if (bytes === 0) return 0;
      if (taken + bytes > limit) return undefined;
      taken += bytes;
      return bytes;
    },
    give(bytes) {
      taken -= bytes;
    },
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
 * backoff. `refused` counts it.
 */
export function installBodyBudget(app: FastifyInstance, limit: number, bodyLimit: number, refused: () => void): void {
  const budget = createBodyBudget(limit, bodyLimit);
  app.addHook('onRequest', (request, reply, done) => {
    const bytes = budget.take(request.headers);
    if (bytes === 0) return done();
    if (bytes === undefined) {
      refused();
      const message = `other requests' bodies take ${budget.taken} of IN_FLIGHT_BODY_LIMIT (${limit} bytes): this one does not fit now; retry`;
      request.log.warn({ statusCode: 503 }, message);
      void reply.code(503).header('retry-after', '1').header('connection', 'close').send({ message });
      return;
    }
    reply.raw.once('close', () => budget.give(bytes));
    done();
  });
}
