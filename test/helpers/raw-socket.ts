/** One raw TCP connection to a listening server, below HTTP: for what Node's parser sees before any route. */
import net from 'node:net';

export interface RawExchange {
  /** Everything the server wrote before it closed the connection. */
  answer: string;
  closedAfterMs: number;
}

/**
 * Connects to `base` (`http://host:port`), writes `bytes` (nothing at all when undefined), then `later`'s
 * bytes once it resolves, ends the client's side when `end`, and reads until the server closes the connection.
 */
export function exchange(base: string, bytes?: string, end = false, later?: Promise<string>): Promise<RawExchange> {
  const { hostname, port } = new URL(base);
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), hostname);
    let answer = '';
    socket.on('data', (chunk: Buffer) => (answer += chunk.toString()));
    socket.on('close', () => resolve({ answer, closedAfterMs: performance.now() - started }));
    socket.on('error', reject);
    if (bytes !== undefined) socket.write(bytes);
    void later?.then((rest) => socket.write(rest));
    if (end) socket.end();
  });
}
