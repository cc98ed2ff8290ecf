/**
 * From argv to a handler: the command table's lookup and arity check, then the family's handler. The
 * front runs the same lookup to route a command; this is what runs on the thread that owns the keys.
 * Commands the table lists but no family implements yet answer as unknown commands, as a Redis without
 * them would.
 */
import { unknownCommand, wrongArity } from '../protocol/errors.js';
import { arityMatches, type CommandTable } from './table.js';
import { argText, type CommandHandler, type ExecutionContext } from './context.js';
import { bitCommands } from './bits.js';
import { bitfieldCommands } from './bitfield.js';
import { keyCommands } from './keys.js';
import { lcsCommands } from './lcs.js';
import { stringCommands } from './strings.js';

const HANDLERS: ReadonlyMap<string, CommandHandler> = new Map(
  Object.entries({ ...stringCommands, ...keyCommands, ...bitCommands, ...bitfieldCommands, ...lcsCommands }),
);

export function execute(table: CommandTable, ctx: ExecutionContext, argv: readonly Buffer[]): void {
  const spec = table.get(argText(argv[0]));
  const handler = spec === undefined ? undefined : HANDLERS.get(spec.name);
  if (spec === undefined || handler === undefined) return ctx.reply.error(unknownCommand(argv));
  if (!arityMatches(spec, argv.length)) return ctx.reply.error(wrongArity(spec.name));
  handler(ctx, argv);
}
