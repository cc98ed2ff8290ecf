/**
 * The command table: one record per command (and subcommand) sabre implements, holding the metadata
 * Redis 7.0 publishes for it: arity (negative = at least), flags, key positions (first, last, step), ACL
 * categories, tips and key specs. Arity checks, key extraction for routing, COMMAND and COMMAND
 * INFO/COUNT/GETKEYS all read this one table, as STYLE.md asks.
 *
 * The metadata itself is data, in redis-commands.json (written by scripts/import-command-info.mjs from a
 * real redis-server and checked against one by test/commands/table.test.ts), so it cannot drift from
 * Redis's. What a command does is not here: handlers live with their data type.
 */
import rawCommands from './redis-commands.json' with { type: 'json' };

/** A key spec as COMMAND INFO reports it (Redis 7). */
export interface KeySpec {
  notes?: string;
  flags: string[];
  begin_search: { type: string; spec: Record<string, unknown> };
  find_keys: { type: string; spec: Record<string, unknown> };
}

/** One COMMAND INFO entry: name, arity, flags, first, last, step, ACL categories, tips, key specs, subcommands. */
export type CommandInfo = [string, number, string[], number, number, number, string[], string[], KeySpec[], CommandInfo[]];

/** Command flags as bits, so that the per-request checks (write? denyoom? admin?) are one AND. */
export const CommandFlag = {
  write: 1 << 0,
  readonly: 1 << 1,
  denyoom: 1 << 2,
  admin: 1 << 3,
  pubsub: 1 << 4,
  noscript: 1 << 5,
  blocking: 1 << 6,
  loading: 1 << 7,
  stale: 1 << 8,
  skip_monitor: 1 << 9,
  skip_slowlog: 1 << 10,
  fast: 1 << 11,
  no_auth: 1 << 12,
  may_replicate: 1 << 13,
  no_mandatory_keys: 1 << 14,
  protected: 1 << 15,
  no_async_loading: 1 << 16,
  no_multi: 1 << 17,
  movablekeys: 1 << 18,
  allow_busy: 1 << 19,
  sentinel: 1 << 20,
  only_sentinel: 1 << 21,
} as const;

export type CommandFlagName = keyof typeof CommandFlag;

export interface CommandSpec {
  /** Lower-case; subcommands are "parent|sub", as Redis names them. */
  readonly name: string;
  /** Position in the table's metadata (−1 for subcommands): the front tells a shard the command by it. */
  readonly index: number;
  readonly arity: number;
  readonly flags: number;
  readonly firstKey: number;
  readonly lastKey: number;
  readonly keyStep: number;
  readonly categories: readonly string[];
  /** The entry COMMAND INFO replies with. */
  readonly info: CommandInfo;
  readonly subcommands: ReadonlyMap<string, CommandSpec> | undefined;
}

function flagBits(names: readonly string[]): number {
  let bits = 0;
  for (const name of names) {
    const bit = CommandFlag[name as CommandFlagName];
    if (bit === undefined) throw new Error(`unknown command flag ${name}`);
    bits |= bit;
  }
  return bits;
}

function specOf(info: CommandInfo, index: number): CommandSpec {
  const [name, arity, flags, firstKey, lastKey, keyStep, categories, , , subcommands] = info;
  return {
    name,
    index,
    arity,
    flags: flagBits(flags),
    firstKey,
    lastKey,
    keyStep,
    categories,
    info,
    subcommands: subcommands.length === 0 ? undefined : new Map(subcommands.map((sub) => [sub[0].split('|')[1], specOf(sub, -1)])),
  };
}

/** ASCII lower case of one byte: what Redis's strcasecmp compares. */
function lowerByte(byte: number): number {
  return byte - 65 < 26 && byte >= 65 ? byte + 32 : byte;
}

/** FNV-1a over the lower-cased bytes. */
function nameHash(bytes: Uint8Array): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < bytes.length; i++) hash = Math.imul(hash ^ lowerByte(bytes[i]), 16777619);
  return hash >>> 0;
}

export class CommandTable {
  private readonly byName = new Map<string, CommandSpec>();
  private readonly byIndex: CommandSpec[];
  /** Name hash → the name (as renamed) and its spec, or null where two names share a hash (those go the string way). */
  private readonly byHash = new Map<number, { name: string; spec: CommandSpec } | null>();
  /** Exact spellings seen on the wire → spec, so a hot command is found without lower-casing it again. */
  private readonly bySpelling = new Map<string, CommandSpec>();

  constructor(infos: readonly CommandInfo[] = rawCommands as unknown as CommandInfo[]) {
    this.byIndex = infos.map((info, index) => specOf(info, index));
    for (const spec of this.byIndex) this.byName.set(spec.name, spec);
    this.indexNames();
  }

  /** The command named `name` in any letter case, or undefined. */
  get(name: string): CommandSpec | undefined {
    const seen = this.bySpelling.get(name);
    if (seen !== undefined) return seen;
    const spec = this.byName.get(name.toLowerCase());
    // Only hits are remembered: unknown names sent by a client must not grow this map.
    if (spec !== undefined && this.bySpelling.size < 4096) this.bySpelling.set(name, spec);
    return spec;
  }

  /**
   * The command whose name is `bytes` in any letter case, or undefined. Hot path: runs for every request,
   * so it builds no string: a hash of the case-folded bytes picks the one candidate, whose name is then
   * compared byte by byte.
   */
  lookup(bytes: Uint8Array): CommandSpec | undefined {
    const candidate = this.byHash.get(nameHash(bytes));
    if (candidate === undefined) return undefined;
    if (candidate === null) return this.get(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('latin1'));
    const name = candidate.name;
    if (name.length !== bytes.length) return undefined;
    for (let i = 0; i < bytes.length; i++) if (lowerByte(bytes[i]) !== name.charCodeAt(i)) return undefined;
    return candidate.spec;
  }

  /** Every command of the metadata, by index, renamed or not. */
  indexed(): readonly CommandSpec[] {
    return this.byIndex;
  }

  /** The command at `index` (CommandSpec.index), as the front named it. */
  at(index: number): CommandSpec | undefined {
    return this.byIndex[index];
  }

  private indexNames(): void {
    this.byHash.clear();
    for (const [name, spec] of this.byName) {
      const hash = nameHash(Buffer.from(name, 'latin1'));
      this.byHash.set(hash, this.byHash.has(hash) ? null : { name, spec });
    }
  }

  /**
   * `rename-command old new` from the configuration: the command answers to `new` only; an empty new
   * name disables it. COMMAND INFO still reports Redis's metadata under the original name.
   */
  rename(from: string, to: string): void {
    const spec = this.byName.get(from.toLowerCase());
    if (spec === undefined) throw new Error(`no such command: ${from}`);
    this.byName.delete(from.toLowerCase());
    this.bySpelling.clear();
    if (to !== '') this.byName.set(to.toLowerCase(), spec);
    this.indexNames();
  }

  get size(): number {
    return this.byName.size;
  }

  all(): IterableIterator<CommandSpec> {
    return this.byName.values();
  }
}

/** Whether `argc` arguments (the command name included) satisfy the arity. */
export function arityMatches(spec: CommandSpec, argc: number): boolean {
  return spec.arity >= 0 ? argc === spec.arity : argc >= -spec.arity;
}

/** Positions of the key arguments in argv, from the first/last/step triple. */
export function keyPositions(spec: CommandSpec, argc: number): number[] {
  const positions: number[] = [];
  if (spec.firstKey === 0) return positions;
  const last = spec.lastKey >= 0 ? spec.lastKey : argc + spec.lastKey;
  for (let i = spec.firstKey; i <= last && i < argc; i += spec.keyStep) positions.push(i);
  return positions;
}

/**
 * Positions of the key arguments of a command whose keys move (`movablekeys`) and whose key specs say
 * where: an index, then a count of keys read from an argument (SINTERCARD numkeys key …). Undefined when
 * the specs are of another kind or the count is not a usable number; the shard then answers the error.
 */
export function movableKeyPositions(spec: CommandSpec, argv: readonly Uint8Array[]): number[] | undefined {
  const positions: number[] = [];
  for (const keySpec of spec.info[8]) {
    if (keySpec.begin_search.type !== 'index' || keySpec.find_keys.type !== 'keynum') return undefined;
    const begin = keySpec.begin_search.spec.index as number;
    const { keynumidx, firstkey, keystep } = keySpec.find_keys.spec as { keynumidx: number; firstkey: number; keystep: number };
    const countArg = argv[begin + keynumidx];
    const count = countArg === undefined ? NaN : Number(Buffer.from(countArg).toString('latin1'));
    if (!Number.isSafeInteger(count) || count < 1 || begin + firstkey + (count - 1) * keystep >= argv.length) return undefined;
    for (let i = 0; i < count; i++) positions.push(begin + firstkey + i * keystep);
  }
  return positions;
}
