/** Runs the hook: settings from the environment, JSON logs, a graceful SIGTERM. */
import { pino } from 'pino';
import { buildServer } from './server.js';
import { SettingsError, settingsFromEnv } from './settings.js';

let settings;
try {
  settings = settingsFromEnv(process.env);
} catch (error) {
  if (!(error instanceof SettingsError)) throw error;
  process.stderr.write(`${error.message}\n`);
  process.exit(2);
}
// Synchronous writes: one line per sync is cheap, and the last lines before process.exit
// (draining, closing, stopped) are neither lost nor reordered, as async writes in flight can be.
const logger = pino({ level: settings.logLevel }, pino.destination({ dest: 1, sync: true }));
const app = buildServer({ ...settings, logger, processMetrics: true });

let stopping = false;
const stop = (signal: string) => {
  if (stopping) return;
  stopping = true;
  // Fail readiness now and keep serving while Kubernetes removes this pod from the Service's
  // endpoints (requests keep arriving until then); answers now close their connections.
  app.drain();
  logger.info({ signal, drainMs: settings.shutdownDelayMs }, 'draining');
  setTimeout(() => {
    // Stop accepting and let in-flight requests finish: close() waits for them, and Fastify's
    // forceCloseConnections ('idle' by default) ends idle keep-alive sockets so they cannot hold it open.
    logger.info({ timeoutMs: settings.shutdownTimeoutMs }, 'closing');
    const deadline = setTimeout(() => {
      // Whatever is still open is cut. With no request being answered, that is no failure: close() then ends
      // now, and the exit is 0 (it takes a turn of the event loop or two, longer than a deadline of 0 or 1 ms).
      app.server.closeAllConnections();
      const answering = app.answering();
      if (answering === 0) {
        // close() ends now; should something else hold it open, the deadline still holds, a second later.
        setTimeout(() => {
          logger.error({ timeoutMs: settings.shutdownTimeoutMs }, 'the server did not close by the shutdown timeout');
          process.exit(1);
        }, 1000).unref();
        return;
      }
      logger.error({ timeoutMs: settings.shutdownTimeoutMs, requests: answering }, 'requests still running at the shutdown timeout: cutting them');
      process.exit(1);
    }, settings.shutdownTimeoutMs);
    deadline.unref();
    app.close().then(
      () => {
        logger.info('stopped');
        process.exit(0);
      },
      (error: unknown) => {
        logger.error({ err: error }, 'error while closing');
        process.exit(1);
      },
    );
  }, settings.shutdownDelayMs);
};
process.on('SIGTERM', () => stop('SIGTERM'));
process.on('SIGINT', () => stop('SIGINT'));

try {
  await app.listen({ port: settings.port, host: settings.host });
} catch (error) {
  // A port in use or a HOST that does not resolve: one line, as for a bad setting, but a failure at run time.
  const host = settings.host.includes(':') ? `[${settings.host}]` : settings.host;
  process.stderr.write(`cannot listen on ${host}:${settings.port}: ${(error as Error).message}\n`);
  process.exit(1);
}
