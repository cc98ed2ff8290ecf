/**
 * `sabre-server [/path/to/redis.conf] [--name value ...]`, read as redis-server reads its arguments:
 * loads the configuration (a bad one stops here with Redis's fatal report), opens the log, starts the
 * shard workers and the front, and shuts down cleanly on SIGINT/SIGTERM (the front stops accepting,
 * shards finish what they were sent). A shard worker that dies takes the server down: its keys cannot
 * be served by anyone else.
 */
import { Persistence, type EveryShard } from './persistence.js';
import type { Config } from '../config/config.js';
import { ConfigFileError, loadConfig, parseCommandLine } from '../config/config-file.js';
import { SERVER_VERSION } from '../version.js';
import { shardSettings } from '../shard/settings.js';
import { Front } from './front.js';
import { AppendOnly } from './append-only.js';
import { PropagationStream } from './propagation-stream.js';
import { createLogger } from './logging.js';
import { ShardPool } from './shard-pool.js';
import { listenAddresses, refuseRuntimeChanges, startupWarnings, unsupportedSetting } from './startup.js';

const USAGE = `Usage: sabre-server [/path/to/redis.conf] [options] [-]
       sabre-server - (read config from stdin)
       sabre-server -v or --version
       sabre-server -h or --help

Examples:
       sabre-server (run the server with default conf)
       echo 'maxmemory 128mb' | sabre-server -
       sabre-server /etc/redis/6379.conf
       sabre-server --port 7777 --shards 2
       sabre-server /etc/myredis.conf --loglevel verbose --save 60 1000
`;

function readConfig(argv: readonly string[]): Config {
  if (argv[0] === '-v' || argv[0] === '--version') {
    process.stdout.write(`Redis server v=${SERVER_VERSION} sha=00000000:0 malloc=native-free-alloc bits=64 build=sabre\n`);
    process.exit(0);
  }
  if (argv[0] === '-h' || argv[0] === '--help') {
    process.stdout.write(USAGE);
    process.exit(0);
  }
  try {
    const config = loadConfig(parseCommandLine(argv));
    const unsupported = unsupportedSetting(config);
    if (unsupported !== undefined) throw new ConfigFileError(`\n*** FATAL CONFIG ERROR ***\n${unsupported}\n`);
    return config;
  } catch (error) {
    if (!(error instanceof ConfigFileError)) throw error;
    process.stderr.write(error.message);
    process.exit(1);
  }
}

async function main(): Promise<void> {
  const config = readConfig(process.argv.slice(2));
  const logger = createLogger(config);
  logger.info({ version: SERVER_VERSION, file: config.file }, 'Configuration loaded');
  startupWarnings(config, logger);
  refuseRuntimeChanges(config);
  const shards = config.number('shards');
  let stopping = false;
  const pool = ShardPool.start({ shards, shard: { databases: config.number('databases'), settings: shardSettings(config) } }, (shard, code) => {
    if (stopping) return;
    logger.fatal({ shard, code }, 'shard worker exited; shutting down');
    process.exit(1);
  });
  // Outside any client's turn (startup, a signal), every shard is asked directly: nothing else runs.
  const everyShard: EveryShard = (operation, args) => Promise.all(Array.from({ length: shards }, (_, shard) => pool.operation(shard, operation, { ...args, shard, shards })));
  const persistence = new Persistence(config, logger);
  const propagation = new PropagationStream(pool);
  const appendOnly = new AppendOnly(config, logger, propagation, everyShard);
  try {
    // With appendonly yes the AOF is the dataset and the RDB file is not read, as in Redis.
    if (!(await appendOnly.start(pool))) await persistence.load(everyShard);
  } catch (error) {
    logger.fatal({ error: (error as Error).message }, 'Fatal error loading the DB, check server logs. Exiting.');
    process.exit(1);
  }
  const addresses = await listenAddresses(config.get('bind'));
  const front = new Front(pool, { port: config.number('port'), addresses, logger, config, persistence, propagation, appendOnly, onShutdown: () => void stop('SHUTDOWN') });
  // From now on clients run too: a rewrite holds every shard through the front's scheduler.
  appendOnly.everyShard = (operation, args) => front.onEveryShard(undefined, operation, args);
  appendOnly.useSnapshots({ running: () => persistence.snapshotRunning, start: (target, atInstant) => persistence.snapshot(target, 'aof', appendOnly.everyShard, { atInstant }) });
  let port: number;
  let listening: string[];
  try {
    ({ port, listening } = await front.listen());
  } catch (error) {
    logger.fatal({ error: (error as Error).message }, `could not listen on ${config.get('bind')} port ${config.number('port')}`);
    process.exit(1);
  }
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    await front.close();
    // SHUTDOWN has saved already if it was to; a signal saves when save points are configured, as Redis.
    if (signal !== 'SHUTDOWN' && persistence.savesOnShutdown) await persistence.save(everyShard);
    await pool.close();
    appendOnly.close();
    logger.info('bye');
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
  // Said once the signals are handled: whoever waits for this line may stop the server at once.
  const shown = listening.map((host) => (host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`)).join(', ');
  logger.info({ version: SERVER_VERSION, bind: config.get('bind'), port, shards }, `sabre ready to accept connections on ${shown}`);
}

await main();
