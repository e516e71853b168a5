/**
 * What a request for no hook is told: a 404 {message} that names the hooks, so that a CompositeController
 * with a typo in its hook path shows in the hook's log, and the answer to a CONNECT, which reaches no route.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { rawAnswer } from './client-errors.js';

/** How long an answered CONNECT's connection may stay open for its client to read the answer and close. */
const CONNECT_LINGER_MS = 1000;

export const notFoundMessage = (method: string, url: string) => `${method} ${url.slice(0, 256)} not found: the hooks are POST /sync and POST /customize`;

/**
 * A CONNECT (a forward proxy's method) reaches no route: Node hands its socket to a 'connect' listener, and with
 * none closes it unanswered. Answered as any other request for no hook is: 404, logged and `count`ed. The socket
 * has left the server's connections, so neither the request timeout nor close() would end it: what the client
 * still sends is read and dropped (closing on unread bytes would reset the answer away), and the socket is
 * destroyed a moment later whatever the client does, so that one that keeps its side open cannot hold the shutdown.
 */
export function answerConnect(app: FastifyInstance, count: () => void): void {
  app.server.on('connect', (request: IncomingMessage, socket: Duplex) => {
    const message = notFoundMessage(request.method ?? 'CONNECT', request.url ?? '');
    app.log.warn({ statusCode: 404 }, message);
    count();
    const cut = setTimeout(() => socket.destroy(), CONNECT_LINGER_MS);
    socket.on('close', () => clearTimeout(cut));
    socket.on('error', () => socket.destroy());
    socket.resume();
    socket.end(rawAnswer(404, message));
  });
}
