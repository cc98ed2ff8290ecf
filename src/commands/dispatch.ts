/**
 * From a command to its handler: the arity check, then the family's handler. The front looks the command
 * up to route it and passes its index along; this is what runs on the thread that owns the keys.
 * Commands the table lists but no family implements yet answer as unknown commands, as a Redis without
 * them would.
 */
import { unknownCommand, wrongArity } from '../protocol/errors.js';
import { arityMatches, type CommandSpec } from './table.js';
import type { CommandHandler, ExecutionContext } from './context.js';
import { bitCommands } from './bits.js';
import { bitfieldCommands } from './bitfield.js';
import { keyCommands } from './keys.js';
import { lcsCommands } from './lcs.js';
import { stringCommands } from './strings.js';

const HANDLERS: ReadonlyMap<string, CommandHandler> = new Map(
  Object.entries({ ...stringCommands, ...keyCommands, ...bitCommands, ...bitfieldCommands, ...lcsCommands }),
);

/** Runs the command `spec` (looked up from argv[0] by the caller; undefined when unknown). */
export function execute(spec: CommandSpec | undefined, ctx: ExecutionContext, argv: readonly Buffer[]): void {
  const handler = spec === undefined ? undefined : HANDLERS.get(spec.name);
  if (spec === undefined || handler === undefined) return ctx.reply.error(unknownCommand(argv));
  if (!arityMatches(spec, argv.length)) return ctx.reply.error(wrongArity(spec.name));
  handler(ctx, argv);
}
