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
const logger = pino({ level: settings.logLevel });
const app = buildServer({
  logger,
  bodyLimit: settings.bodyLimit,
  clusterDomain: settings.clusterDomain,
  mcrouterImage: settings.mcrouterImage,
  exporterImage: settings.exporterImage,
  processMetrics: true,
});

let stopping = false;
const stop = (signal: string) => {
  if (stopping) return;
  stopping = true;
  // Fail readiness now, keep serving while Kubernetes removes this pod from the Service's endpoints,
  // then stop accepting and let in-flight requests finish (Fastify closes idle keep-alive sockets).
  app.drain();
  logger.info({ signal, drainMs: settings.shutdownDelayMs }, 'draining');
  setTimeout(() => {
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

await app.listen({ port: settings.port, host: settings.host });
