/**
 * CONFIG GET | SET | RESETSTAT | REWRITE | HELP, answered by the front from the live configuration
 * (src/config/config.ts), with Redis 7.0's replies and errors. Names and values are bytes on the wire;
 * they are handled as latin1 text so every byte survives the round trip.
 */
import { argText } from '../commands/context.js';
import { rewriteConfigFile } from '../config/config-rewrite.js';
import { ERR_SYNTAX } from '../protocol/errors.js';
import { isLoopback } from './admission.js';
import { container, writeHelp } from './subcommands.js';

function latin1(text: string): Buffer {
  return Buffer.from(text, 'latin1');
}

const HELP = [
  'GET <pattern>',
  '    Return parameters matching the glob-like <pattern> and their values.',
  'SET <directive> <value>',
  '    Set the configuration <directive> to <value>.',
  'RESETSTAT',
  '    Reset statistics reported by the INFO command.',
  'REWRITE',
  '    Rewrite the configuration file.',
];

export const configCommand = container({
  get({ writer, argv, config }) {
    const pairs = config.match(argv.slice(2).map(argText));
    writer.mapHeader(pairs.length);
    for (const [name, value] of pairs) {
      writer.bulk(latin1(name));
      writer.bulk(latin1(value));
    }
  },
  set({ writer, argv, config, client }) {
    if (argv.length % 2 !== 0) return writer.error(ERR_SYNTAX);
    const pairs: [string, string][] = [];
    for (let i = 2; i < argv.length; i += 2) pairs.push([argText(argv[i]), argText(argv[i + 1])]);
    const error = config.set(pairs, { local: isLoopback(client.socket.remoteAddress) });
    if (error === undefined) writer.ok();
    else writer.error(latin1(error));
  },
  resetstat({ writer, server }) {
    server.resetStats();
    writer.ok();
  },
  rewrite({ writer, config }) {
    const error = rewriteConfigFile(config);
    if (error === undefined) writer.ok();
    else writer.error(latin1(error));
  },
  help(ctx) {
    writeHelp(ctx, HELP);
  },
});
