/**
 * Commands made of subcommands (CLIENT, COMMAND, CONFIG): the subcommand is found in the command table
 * under the name the client used (which rename-command may have changed) and its own arity checked,
 * as Redis does, before its handler runs.
 */
import { argText } from '../commands/context.js';
import { arityMatches } from '../commands/table.js';
import { unknownSubcommand, wrongArity } from '../protocol/errors.js';
import type { ConnectionContext, ConnectionHandler } from './connection-commands.js';

export function container(handlers: Record<string, ConnectionHandler>): ConnectionHandler {
  return (ctx) => {
    const sub = argText(ctx.argv[1]).toLowerCase();
    const spec = ctx.table.get(argText(ctx.argv[0]))?.subcommands?.get(sub);
    const handler = handlers[sub];
    if (spec === undefined || handler === undefined) return ctx.writer.error(unknownSubcommand(ctx.argv[1], argText(ctx.argv[0])));
    if (!arityMatches(spec, ctx.argv.length)) return ctx.writer.error(wrongArity(spec.name));
    return handler(ctx);
  };
}

/** A HELP subcommand answering `lines` (see writeHelp). */
export function helpLines(lines: readonly string[]): ConnectionHandler {
  return (ctx) => writeHelp(ctx, lines);
}

/** Redis's addReplyHelp: the command as typed, upper-cased, its subcommands, and HELP itself, as status lines. */
export function writeHelp(ctx: ConnectionContext, lines: readonly string[]): void {
  const all = [
    `${argText(ctx.argv[0]).toUpperCase()} <subcommand> [<arg> [value] [opt] ...]. Subcommands are:`,
    ...lines,
    'HELP',
    '    Prints this help.',
  ];
  ctx.writer.arrayHeader(all.length);
  for (const line of all) ctx.writer.simple(line);
}
