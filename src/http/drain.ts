/**
 * Stopping without dropping a call: `drain()` fails /readyz and makes every answer close its connection,
 * `answering()` counts the requests still to answer (main.ts's shutdown deadline reads it), and close()
 * waits on a connection that never sends a request only until it is UNUSED_AFTER_MS old.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyInstance } from 'fastify';

declare module 'fastify' {
  interface FastifyInstance {
    /** Fails /readyz from now on, so Kubernetes stops sending requests before the server closes. */
    drain(): void;
    /** Requests read and not yet answered (nor cut off with their connection). */
    answering(): number;
  }
}

/** How long a connection may stay silent once the server closes before it counts as unused (preClose). */
export const UNUSED_AFTER_MS = 250;

/** Decorates `app` with drain() and answering(); returns whether drain() was called. */
export function installDrain(app: FastifyInstance): () => boolean {
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
  // A connection that has not sent a request yet (an HTTP client may open one ahead of need and leave it
  // unused, as Go's transport keeps the loser of a dial race) is closed once it is UNUSED_AFTER_MS old and
  // Node has read nothing from it: a connection accepted in one turn of the event loop is read from in the
  // next, later still on a busy hook, so a request on its way when shutdown begins is answered rather than
  // reset. Node's server.close() decides such a connection by version: up to Node 24 it passes over it, and
  // stops the timeout checks that would answer it 408, so it would hold the shutdown until
  // SHUTDOWN_TIMEOUT_MS; from Node 26 (nodejs/node#63470) it destroys it at once, request on its way or not.
  // So close() waits until each such connection has been read from or closed as unused.
  app.server.on('connection', (socket: Socket) => {
    connections.set(socket, { carried: 0, openedAt: performance.now() });
    socket.once('close', () => {
      answering -= connections.get(socket)?.carried ?? 0;
      connections.delete(socket);
    });
  });
  // After the timers, the loop reads sockets before it runs what setImmediate queued: the check comes after a read.
  const closeIfUnused = (socket: Socket, then: () => void) =>
    setImmediate(() => {
      if (socket.bytesRead === 0) socket.destroy();
      then();
    });
  // close() itself waits one turn too: a request already in an idle keep-alive connection's buffer is read,
  // and answered, before Node closes the idle ones.
  app.addHook('preClose', (done) => {
    setImmediate(() => {
      const now = performance.now();
      const unread = [...connections].filter(([socket]) => socket.bytesRead === 0);
      let unchecked = unread.length;
      const checked = () => {
        if (--unchecked === 0) done();
      };
      if (unchecked === 0) return done();
      for (const [socket, { openedAt }] of unread) setTimeout(closeIfUnused, Math.max(0, openedAt + UNUSED_AFTER_MS - now), socket, checked);
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
  return () => draining;
}
