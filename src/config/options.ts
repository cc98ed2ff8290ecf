/**
 * Server options from the command line, as redis-server takes them: `sabre-server [--name value ...]`.
 * Names follow redis.conf; sabre's own (`shards`) sits beside them. Reading a redis.conf file, CONFIG
 * GET/SET/REWRITE and the full directive set come with the configuration work; this is what the server
 * needs to start.
 */
import { availableParallelism } from 'node:os';

export interface ServerOptions {
  port: number;
  bind: string;
  shards: number;
  loglevel: 'debug' | 'verbose' | 'notice' | 'warning';
}

export const DEFAULTS: Readonly<ServerOptions> = Object.freeze({
  port: 6379,
  bind: '127.0.0.1',
  shards: Math.max(1, availableParallelism()),
  loglevel: 'notice',
});

export class OptionsError extends Error {}

function integerIn(name: string, text: string, min: number, max: number): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new OptionsError(`argument must be an integer between ${min} and ${max}: --${name} ${text}`);
  }
  return value;
}

export function parseOptions(args: readonly string[]): ServerOptions {
  const options: ServerOptions = { ...DEFAULTS };
  for (let i = 0; i < args.length; i++) {
    const flag = args[i];
    const value = args[i + 1];
    if (!flag.startsWith('--') || value === undefined) throw new OptionsError(`Bad directive or wrong number of arguments: ${flag}`);
    const name = flag.slice(2).toLowerCase();
    i++;
    if (name === 'port') options.port = integerIn(name, value, 0, 65535);
    else if (name === 'bind') options.bind = value.split(/\s+/)[0];
    else if (name === 'shards') options.shards = integerIn(name, value, 1, Math.max(64, availableParallelism()));
    else if (name === 'loglevel') {
      if (!['debug', 'verbose', 'notice', 'warning'].includes(value)) throw new OptionsError(`Invalid loglevel: ${value}`);
      options.loglevel = value as ServerOptions['loglevel'];
    } else throw new OptionsError(`Bad directive or wrong number of arguments: ${flag}`);
  }
  return options;
}
