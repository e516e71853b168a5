/**
 * What Node's HTTP parser refuses or cuts, before any route runs, answered as every other error is: JSON
 * `{message}` saying what to change (Fastify's own answer is `{error, message: "Client Timeout", statusCode}`).
 */
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';

/** Node's own limit on receiving a request's headers. */
export const NODE_HEADERS_TIMEOUT_MS = 60_000;

/**
 * How many headers of a request Node reads (http.Server's maxHeadersCount, 2,000 names and values). Past it, Node 20
 * drops the rest unread (validation-error.ts tells such a request by its rawHeaders), and Node 22 and later refuse
 * the request as a header overflow, as they do headers over their size limit.
 */
export const NODE_MAX_HEADERS = 1000;

/**
 * A JSON `{message}` answer as written straight to a socket, below Fastify, for a connection about to be
 * closed; `headers`: more header lines, each ending in CRLF.
 */
export function rawAnswer(code: number, message: string, headers = ''): string {
  const body = JSON.stringify({ message });
  return `HTTP/1.1 ${code} ${STATUS_CODES[code]}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nContent-Type: application/json; charset=utf-8\r\n${headers}Connection: close\r\n\r\n${body}`;
}

/**
 * Why a connection was closed before any hook route saw a request, as the metrics count it: Node cut it at
 * REQUEST_TIMEOUT_MS, or at the headers' time when it sent nothing (408); its headers were too large (431);
 * or it was not HTTP (400), its chunk extensions too large (413) among them.
 */
export const CLIENT_ERRORS = ['timeout', 'header_overflow', 'malformed'] as const;
export type ClientError = (typeof CLIENT_ERRORS)[number];

/** What the hook answers to one of Node's `clientError` events, and the reason it counts it by. */
export interface ClientErrorAnswer {
  statusCode: number;
  message: string;
  /**
   * None for a client that went away: an error of the connection itself (ECONNRESET, EPIPE, ...), or its end
   * in the middle of a request (HPE_INVALID_EOF_STATE).
   */
  reason: ClientError | undefined;
}

const HEADER_OVERFLOW_MESSAGE = `the request headers are over Node's limits: 16 KiB (unless --max-http-header-size raises it), and from Node 22 also ${NODE_MAX_HEADERS} headers`;

/** One place for each of Node's clientError codes: the answer written to the socket and the metric both read it. */
export function clientErrorAnswer(error: Pick<NodeJS.ErrnoException, 'code' | 'message'>, requestTimeout: number): ClientErrorAnswer {
  switch (error.code) {
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return { statusCode: 408, message: timeoutMessage(requestTimeout), reason: 'timeout' };
    case 'HPE_HEADER_OVERFLOW':
      return { statusCode: 431, message: HEADER_OVERFLOW_MESSAGE, reason: 'header_overflow' };
    case 'HPE_CHUNK_EXTENSIONS_OVERFLOW':
      return { statusCode: 413, message: "the request's chunk extensions are larger than Node's limit", reason: 'malformed' };
  }
  const refused = error.code?.startsWith('HPE_') === true && error.code !== 'HPE_INVALID_EOF_STATE';
  return { statusCode: 400, message: `not an HTTP/1.1 request Node can parse (${error.code ?? error.message})`, reason: refused ? 'malformed' : undefined };
}

export function answerClientError(error: NodeJS.ErrnoException, socket: Duplex, requestTimeout: number): void {
  // A reset connection has nobody to answer.
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const { statusCode, message } = clientErrorAnswer(error, requestTimeout);
  // As Node's own handler (the same internal field): never into an answer already under way, when a
  // pipelined request behind it timed out.
  const answering = (socket as { _httpMessage?: { _headerSent?: boolean } })._httpMessage;
  if (socket.writable && !answering?._headerSent) {
    socket.write(rawAnswer(statusCode, message));
  }
  socket.destroy(error);
}

/** Node cuts the headers at the smaller of REQUEST_TIMEOUT_MS and its own 60 s, and the whole request at the first. */
function timeoutMessage(requestTimeout: number): string {
  if (requestTimeout === 0) return `the request headers did not arrive within ${NODE_HEADERS_TIMEOUT_MS} ms`;
  if (requestTimeout <= NODE_HEADERS_TIMEOUT_MS) return `the request did not arrive within REQUEST_TIMEOUT_MS (${requestTimeout} ms)`;
  return `the request headers did not arrive within ${NODE_HEADERS_TIMEOUT_MS} ms, or the whole request within REQUEST_TIMEOUT_MS (${requestTimeout} ms)`;
}

/** A header's value in a message or log line: quoted, escaped beyond ASCII (Node reads header bytes as Latin-1), cut at 128. */
export function shownHeader(value: string): string {
  const quoted = JSON.stringify(value.slice(0, 128)).replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return value.length > 128 ? `${quoted}…` : quoted;
}
