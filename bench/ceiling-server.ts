/**
 * The ceiling: what any Fastify hook pays for a /sync request. A bare Fastify
 * server with the hook's body limit and JSON parser settings that parses the
 * body and answers a prebuilt response of the hook's size (its exact bytes,
 * looked up by the parent's uid). Whatever the hook does beyond this is its
 * own cost.
 *
 * Run by bench/run.ts as plain JavaScript (transpiled, no loader), like the
 * hook: `node ceiling-server.mjs` with PORT, BODY_LIMIT and RESPONSES (a JSON
 * file mapping parent uid to response text) in the environment.
 */
import { readFileSync } from 'node:fs';
import Fastify from 'fastify';

const responses = new Map<string, string>(
  Object.entries(JSON.parse(readFileSync(process.env['RESPONSES'] ?? '', 'utf8')) as Record<string, string>),
);

const app = Fastify({
  logger: false,
  bodyLimit: Number(process.env['BODY_LIMIT']),
  onProtoPoisoning: 'error',
  onConstructorPoisoning: 'error',
});

app.post('/sync', (request, reply) => {
  const uid = (request.body as { parent?: { metadata?: { uid?: string } } }).parent?.metadata?.uid ?? '';
  const body = responses.get(uid);
  if (body === undefined) return reply.code(404).send({ message: `no prebuilt response for parent uid ${uid}` });
  return reply.code(200).type('application/json; charset=utf-8').send(body);
});

await app.listen({ port: Number(process.env['PORT']), host: '127.0.0.1' });
process.on('SIGTERM', () => void app.close().then(() => process.exit(0)));
