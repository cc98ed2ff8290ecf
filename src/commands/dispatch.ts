/**
/**
 * From a command to its handler: the arity check (and, for a container such as OBJECT, its subcommand's),
 * then the family's handler, registered under the table's full name ("object|encoding"). The front looks
 * the command up to route it and passes its index along; this is what runs on the thread that owns the
 * keys. Commands the table lists but no family implements yet answer as unknown commands, as a Redis
 * without them would.
 *
 * Internal commands (the front's steps of a cross-shard RENAME or COPY) are not in the table, so a
 * client can never reach them: the front answers "unknown command" to any name the table lacks. They
 * are looked up only once the table has missed, which costs the hot path nothing.
 */
import { unknownCommand, unknownSubcommand, wrongArity } from '../protocol/errors.js';
import { arityMatches, type CommandSpec } from './table.js';
import { argText, type CommandHandler, type ExecutionContext } from './context.js';
import { bitCommands } from './bits.js';
import { blockingCommands } from './blocking.js';
import { dumpRestoreCommands } from './dump-restore.js';
import { bitfieldCommands } from './bitfield.js';
import { hashCommands } from './hashes.js';
import { keyCommands } from './keys.js';
import { hyperLogLogCommands } from './hyperloglog.js';
import { internalKeyspaceCommands, keyspaceCommands } from './keyspace.js';
import { lcsCommands } from './lcs.js';
import { listCommands } from './lists.js';
import { memoryCommands } from './memory.js';
import { sortedSetCommands } from './sorted-sets.js';
import { setCommands } from './sets.js';
import { internalSortCommands, sortCommands } from './sort.js';
import { stringCommands } from './strings.js';

const HANDLERS: ReadonlyMap<string, CommandHandler> = new Map(
  Object.entries({
    ...stringCommands,
    ...keyCommands,
    ...keyspaceCommands,
    ...bitCommands,
    ...bitfieldCommands,
    ...lcsCommands,
    ...hashCommands,
    ...setCommands,
    ...hyperLogLogCommands,
    ...listCommands,
    ...blockingCommands,
    ...sortedSetCommands,
    ...memoryCommands,
    ...sortCommands,
    ...dumpRestoreCommands,
  }),
);
const INTERNAL: ReadonlyMap<string, CommandHandler> = new Map(Object.entries({ ...internalKeyspaceCommands, ...internalSortCommands }));

/** Runs the command `spec` (looked up from argv[0] by the caller; undefined when the table has no such name). */
export function execute(spec: CommandSpec | undefined, ctx: ExecutionContext, argv: readonly Buffer[]): void {
  if (spec === undefined) {
    const internal = INTERNAL.get(argText(argv[0]));
    return internal === undefined ? ctx.reply.error(unknownCommand(argv)) : internal(ctx, argv);
  }
  const handler = HANDLERS.get(spec.name);
  if (handler === undefined && spec.subcommands === undefined) return ctx.reply.error(unknownCommand(argv));
  if (!arityMatches(spec, argv.length)) return ctx.reply.error(wrongArity(spec.name));
  if (handler !== undefined) return handler(ctx, argv);
  // A container: Redis finds the subcommand once the container's own arity holds, then checks its arity.
  if (argv.length < 2) return ctx.reply.error(unknownCommand(argv));
  const sub = spec.subcommands!.get(argText(argv[1]).toLowerCase());
  if (sub === undefined) return ctx.reply.error(unknownSubcommand(argv[1], spec.name));
  const subHandler = HANDLERS.get(sub.name);
  if (subHandler === undefined) return ctx.reply.error(unknownCommand(argv));
  if (!arityMatches(sub, argv.length)) return ctx.reply.error(wrongArity(sub.name));
  subHandler(ctx, argv);
}
