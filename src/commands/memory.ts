/**
 * MEMORY USAGE, the keyed part of the MEMORY family (the rest needs every shard; server-commands.ts
 * answers it on the front). The figure is exact: the bytes the arena handed out for every allocation
 * the key owns, summed over a walk of its whole value. Redis samples a few elements of a large
 * collection and extrapolates (SAMPLES); sabre can afford the exact sum, so SAMPLES is checked as Redis
 * checks it and then has nothing left to limit.
 */
import { ERR_NOT_INTEGER, ERR_SYNTAX } from '../protocol/errors.js';
import { isKeyword, parseInt64, type CommandHandler } from './context.js';

const usage: CommandHandler = (ctx, argv) => {
  for (let i = 3; i < argv.length; i++) {
    if (!isKeyword(argv[i], 'SAMPLES') || i + 1 >= argv.length) return ctx.reply.error(ERR_SYNTAX);
    const samples = parseInt64(argv[++i]);
    if (samples === undefined) return ctx.reply.error(ERR_NOT_INTEGER);
    if (samples < 0) return ctx.reply.error(ERR_SYNTAX);
  }
  const bytes = ctx.db.usage(argv[2]);
  if (bytes === undefined) ctx.reply.nullBulk();
  else ctx.reply.integer(bytes);
};

export const memoryCommands: Readonly<Record<string, CommandHandler>> = { 'memory|usage': usage };
