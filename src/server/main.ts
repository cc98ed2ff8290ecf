/**
 * `sabre-server [--name value ...]`: starts the shard workers and the front, logs a startup line, and
 * shuts down cleanly on SIGINT/SIGTERM (the front stops accepting, shards finish what they were sent).
 * A shard worker that dies takes the server down: its keys cannot be served by anyone else.
 */
import { pino, type Level } from 'pino';
import { OptionsError, parseOptions, type ServerOptions } from '../config/options.js';
import { SERVER_VERSION } from './info.js';
import { Front } from './front.js';
import { ShardPool } from './shard-pool.js';

const LOG_LEVELS: Record<ServerOptions['loglevel'], Level> = {
  debug: 'debug',
  verbose: 'debug',
  notice: 'info',
  warning: 'warn',
};

async function main(): Promise<void> {
  let options: ServerOptions;
  try {
    options = parseOptions(process.argv.slice(2));
  } catch (error) {
    if (!(error instanceof OptionsError)) throw error;
    process.stderr.write(`*** FATAL CONFIG ERROR ***\n${error.message}\n`);
    process.exit(1);
  }
  const logger = pino({ level: LOG_LEVELS[options.loglevel], base: { pid: process.pid } });
  let stopping = false;
  const pool = ShardPool.start({ shards: options.shards }, (shard, code) => {
    if (stopping) return;
    logger.fatal({ shard, code }, 'shard worker exited; shutting down');
    process.exit(1);
  });
  const front = new Front(pool, { port: options.port, host: options.bind, logger, onShutdown: () => void stop('SHUTDOWN') });
  let port: number;
  try {
    port = await front.listen();
  } catch (error) {
    logger.fatal({ error: (error as Error).message }, `could not listen on ${options.bind}:${options.port}`);
    process.exit(1);
  }
  logger.info({ version: SERVER_VERSION, bind: options.bind, port, shards: options.shards }, `sabre ready to accept connections on ${options.bind}:${port}`);
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    await front.close();
    await pool.close();
    logger.info('bye');
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
}

await main();
