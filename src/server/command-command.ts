/**
 * COMMAND [COUNT|INFO|DOCS|LIST|GETKEYS|GETKEYSANDFLAGS|HELP]: the command table described the way
 * Redis 7.0 describes it, from the same metadata that drives arity checks and routing (COMMAND INFO)
 * and Redis's own documentation records (COMMAND DOCS), both imported from a real redis-server by
 * scripts/import-command-info.mjs. Only commands sabre serves are listed.
 */
import rawDocs from '../commands/redis-command-docs.json' with { type: 'json' };
import { argText } from '../commands/context.js';
import { globMatch } from '../commands/glob.js';
import { commandKeys } from '../commands/key-specs.js';
import { arityMatches, type CommandInfo, type CommandSpec, type CommandTable } from '../commands/table.js';
import { ERR_SYNTAX } from '../protocol/errors.js';
import type { ReplyWriter } from '../protocol/reply-writer.js';
import type { ConnectionHandler } from './connection-commands.js';
import { container, helpLines } from './subcommands.js';

type DocValue = string | number | DocValue[] | { [key: string]: DocValue };
const DOCS = rawDocs as unknown as Record<string, Record<string, DocValue>>;

/** Map entries Redis writes as sets of status strings rather than arrays of bulks. */
const FLAG_KEYS = new Set(['flags', 'doc_flags']);

/**
 * Writes JSON-shaped metadata the way Redis writes it: objects as maps (flat arrays in RESP2), strings
 * as bulks, and flag lists (key specs', arguments', docs') as sets of status strings.
 */
function writeValue(writer: ReplyWriter, value: DocValue): void {
  if (typeof value === 'number') writer.integer(value);
  else if (typeof value === 'string') writer.bulk(value);
  else if (Array.isArray(value)) {
    writer.arrayHeader(value.length);
    for (const item of value) writeValue(writer, item);
  } else {
    const entries = Object.entries(value);
    writer.mapHeader(entries.length);
    for (const [key, item] of entries) {
      writer.bulk(key);
      if (FLAG_KEYS.has(key) && Array.isArray(item)) {
        writer.setHeader(item.length);
        for (const flag of item) writer.simple(String(flag));
      } else writeValue(writer, item);
    }
  }
}

/** One COMMAND INFO entry: flags and categories as sets of status strings, tips as a set of bulks, key specs as maps. */
function writeInfo(writer: ReplyWriter, info: CommandInfo): void {
  const [name, arity, flags, first, last, step, categories, tips, keySpecs, subcommands] = info;
  writer.arrayHeader(10);
  writer.bulk(name);
  writer.integer(arity);
  writer.setHeader(flags.length);
  for (const flag of flags) writer.simple(flag);
  writer.integer(first);
  writer.integer(last);
  writer.integer(step);
  writer.setHeader(categories.length);
  for (const category of categories) writer.simple(category);
  writer.setHeader(tips.length);
  for (const tip of tips) writer.bulk(tip);
  writeValue(writer, keySpecs as unknown as DocValue);
  writer.arrayHeader(subcommands.length);
  for (const sub of subcommands) writeInfo(writer, sub);
}

function writeDocs(writer: ReplyWriter, specs: readonly CommandSpec[]): void {
  const documented = specs.filter((spec) => DOCS[spec.name] !== undefined);
  writer.mapHeader(documented.length);
  for (const spec of documented) {
    writer.bulk(spec.name);
    writeValue(writer, DOCS[spec.name]);
  }
}

function namedSpecs(table: CommandTable, argv: readonly Buffer[]): (CommandSpec | undefined)[] {
  return argv.slice(2).map((arg) => table.get(argText(arg)));
}

/** The command COMMAND GETKEYS describes, with its arity checked, or the error Redis gives. */
function keysOf(table: CommandTable, argv: readonly Buffer[]): number[] | string {
  const spec = table.get(argText(argv[2]));
  if (spec === undefined) return 'ERR Invalid command specified';
  if (!arityMatches(spec, argv.length - 2)) return 'ERR Invalid number of arguments specified for command';
  const positions = commandKeys(spec, argv.slice(2));
  if (positions === undefined) return 'ERR Invalid arguments specified for command';
  if (positions.length === 0) return 'ERR The command has no key arguments';
  return positions.map(({ index }) => index + 2);
}

/**
 * The flags of a command's key as GETKEYSANDFLAGS reports them: its first key spec's, except for the
 * commands whose key spec says `variable_flags`, where Redis looks at the arguments: SET without GET
 * only overwrites its key.
 */
function keyFlags(spec: CommandSpec, argv: readonly Buffer[]): string[] {
  const flags = spec.info[8][0]?.flags ?? [];
  if (!flags.includes('variable_flags') || spec.name !== 'set') return flags;
  const get = argv.slice(3).some((arg) => argText(arg).toLowerCase() === 'get');
  return get ? flags.filter((flag) => flag !== 'variable_flags') : ['OW', 'update'];
}

const subcommands = container({
  count: ({ writer, table }) => writer.integer(table.size),
  info: ({ writer, table, argv }) => {
    const specs = argv.length === 2 ? [...table.all()] : namedSpecs(table, argv);
    writer.arrayHeader(specs.length);
    for (const spec of specs) {
      if (spec === undefined) writer.nullBulk();
      else writeInfo(writer, spec.info);
    }
  },
  docs: ({ writer, table, argv }) => {
    const specs = argv.length === 2 ? [...table.all()] : namedSpecs(table, argv).filter((spec) => spec !== undefined);
    writeDocs(writer, specs);
  },
  list: ({ writer, table, argv }) => {
    let specs = [...table.all()];
    if (argv.length > 2) {
      if (argv.length !== 5 || argText(argv[2]).toLowerCase() !== 'filterby') return writer.error(ERR_SYNTAX);
      const filter = argText(argv[3]).toLowerCase();
      const value = argText(argv[4]).toLowerCase();
      if (filter === 'aclcat') specs = specs.filter((spec) => spec.categories.includes(`@${value}`));
      else if (filter === 'module') specs = [];
      else if (filter === 'pattern') specs = specs.filter((spec) => globMatch(argv[4], Buffer.from(spec.name), true));
      else return writer.error(ERR_SYNTAX);
    }
    writer.arrayHeader(specs.length);
    for (const spec of specs) writer.bulk(spec.name);
  },
  getkeys: ({ writer, table, argv }) => {
    const keys = keysOf(table, argv);
    if (typeof keys === 'string') return writer.error(keys);
    writer.arrayHeader(keys.length);
    for (const position of keys) writer.bulk(argv[position]);
  },
  getkeysandflags: ({ writer, table, argv }) => {
    const keys = keysOf(table, argv);
    if (typeof keys === 'string') return writer.error(keys);
    const spec = table.get(argText(argv[2]))!;
    const flags = keyFlags(spec, argv.slice(2));
    writer.arrayHeader(keys.length);
    for (const position of keys) {
      writer.arrayHeader(2);
      writer.bulk(argv[position]);
      writer.setHeader(flags.length);
      for (const flag of flags) writer.simple(flag);
    }
  },
  help: helpLines([
    '(no subcommand)',
    '    Return details about all Redis commands.',
    'COUNT',
    '    Return the total number of commands in this Redis server.',
    'LIST',
    '    Return a list of all commands in this Redis server.',
    'INFO [<command-name> ...]',
    '    Return details about multiple Redis commands.',
    'DOCS [<command-name> ...]',
    '    Return documentation details about multiple Redis commands.',
    'GETKEYS <full-command>',
    '    Return the keys from a full Redis command.',
    'GETKEYSANDFLAGS <full-command>',
    '    Return the keys and the access flags from a full Redis command.',
  ]),
});

export const commandCommand: ConnectionHandler = (ctx) => {
  if (ctx.argv.length > 1) return subcommands(ctx);
  const specs = [...ctx.table.all()];
  ctx.writer.arrayHeader(specs.length);
  for (const spec of specs) writeInfo(ctx.writer, spec.info);
};
