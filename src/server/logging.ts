/**
 * The server's log: pino JSON lines to `logfile` (stdout when it is ""), at the level `loglevel` names
 * (Redis's debug, verbose, notice, warning map to pino's debug, debug, info, warn). CONFIG SET loglevel
 * takes effect at once.
 */
import { openSync } from 'node:fs';
import { pino, type Level, type Logger } from 'pino';
import type { Config } from '../config/config.js';

const LEVELS: Record<string, Level> = {
  debug: 'debug',
  verbose: 'debug',
  notice: 'info',
  warning: 'warn',
};

export function createLogger(config: Config): Logger {
  const logfile = config.get('logfile');
  const destination = logfile === '' ? pino.destination({ dest: 1, sync: true }) : pino.destination({ dest: openSync(logfile, 'a'), sync: true });
  const logger = pino({ level: LEVELS[config.get('loglevel')], base: { pid: process.pid } }, destination);
  config.onChange('loglevel', (level) => {
    logger.level = LEVELS[level];
    return undefined;
  });
  return logger;
}
