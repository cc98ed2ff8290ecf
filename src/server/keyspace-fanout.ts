/**
 * The keyspace commands when the keyspace is spread over shards: which shards each one needs, and how
 * the shards' replies make the one reply a single Redis would give. Each is a transaction body for the
 * front's ShardScheduler (see multi-shard.ts), which holds every shard it names still while it runs, so
 * a body sees the keyspace at one instant and no client sees it half done.
 *
 *   KEYS       every shard; the arrays are concatenated
 *   DBSIZE     every shard; the counts are summed
 *   FLUSHDB, FLUSHALL, SWAPDB
 *              every shard (they validate their arguments alike, so they all succeed or all refuse)
 *   RANDOMKEY  every shard's DBSIZE, then RANDOMKEY on a shard drawn with those weights, so each key is
 *              as likely as on one Redis; a shard whose keys all turned out expired drops out
 *   SCAN       one shard per call, through a cursor that carries the shard (below)
 *   RENAME, RENAMENX, COPY between two shards
 *              dump the source on its shard, restore it on the destination's (NX or REPLACE), and for a
 *              rename delete the source: internal commands (keyspace.ts) no client can send
 *   containers (OBJECT ENCODING key…)
 *              the table's container is keyless, so the front would send it to shard 0: it goes to the
 *              shard of its subcommand's key instead
 *
 * The SCAN cursor. A shard's own cursor (its dictionary's reversed-bit bucket cursor) is below 2^32;
 * the shard index goes in the low bits under it:
 *
 *   cursor = shardCursor × 2^b + shard,   b = the bits shard indexes need (0 for one shard)
 *
 * Cursor 0 starts at shard 0. When a shard's own walk ends (its cursor comes back 0) the reply carries
 * the next shard's first cursor, which is just that shard's index (never 0), and the last shard's end is
 * cursor 0. Every shard is therefore walked from its start to its end, with all of SCAN's guarantees
 * each, and a call never spans shards, so only that shard is held (a page can come back short or empty
 * at a shard's end, which SCAN's contract allows). Cursors stay below 2^40, well inside the unsigned
 * 64-bit range Redis's cursors live in; with one shard they are the dictionary's cursors exactly. A
 * cursor whose shard bits name no shard is past the end: it answers an empty last page.
 */
import { parseCopyOptions } from '../commands/keyspace.js';
import { argText } from '../commands/context.js';
import { parseScanCursor, parseScanOptions } from '../commands/scan.js';
import { keyPositions, type CommandSpec } from '../commands/table.js';
import { ERR_INVALID_CURSOR, ERR_NO_SUCH_KEY } from '../protocol/errors.js';
import { ReplyWriter } from '../protocol/reply-writer.js';
import { sumIntegers, type TransactionBody } from './multi-shard.js';
import { KEY_DELETE, KEY_DUMP, KEY_NOTIFY, KEY_RESTORE, NX, OK_REPLY, ONE_REPLY, REPLACE, ZERO_REPLY } from './internal-steps.js';


const MINUS = 0x2d;
const DOLLAR = 0x24;
const STAR = 0x2a;
const CR = 0x0d;
const EMPTY_SCAN_PAGE = Buffer.from('*2\r\n$1\r\n0\r\n*0\r\n');
const DBSIZE = Buffer.from('DBSIZE');
/** How the restore steps signal their writes (keyspace.ts's _sabre.key-restore). */
const AS_NEW_KEY = Buffer.from('NEW');
const AS_COPY = Buffer.from('copy_to');
const RENAME_FROM = Buffer.from('rename_from');
const RENAME_TO = Buffer.from('rename_to');

const errorWriter = new ReplyWriter();

/** An error reply; its framing is the same in RESP2 and RESP3. */
function errorReply(message: string): Buffer {
  errorWriter.error(message);
  return errorWriter.take();
}

const isError = (reply: Buffer): boolean => reply[0] === MINUS;

/** The number after a reply's type byte, up to its CRLF, and where the reply goes on after it. */
function header(reply: Buffer, from = 0): { value: number; next: number } {
  const end = reply.indexOf(CR, from);
  return { value: Number(reply.toString('latin1', from + 1, end)), next: end + 2 };
}

/** KEYS: one array of every shard's keys (an error from any shard is the reply). */
function concatenateArrays(replies: readonly Buffer[]): Buffer {
  const failed = replies.find(isError);
  if (failed !== undefined) return failed;
  let total = 0;
  const bodies: Buffer[] = [];
  for (const reply of replies) {
    const { value, next } = header(reply);
    total += value;
    bodies.push(reply.subarray(next));
  }
  return Buffer.concat([Buffer.from(`*${total}\r\n`), ...bodies]);
}

/** FLUSHDB, FLUSHALL, SWAPDB: every shard answers alike; an error, should one differ, wins. */
function commonReply(replies: readonly Buffer[]): Buffer {
  return replies.find(isError) ?? replies[0];
}

/** The payload of a bulk-string reply, or undefined when the reply is something else (an error). */
export function bulkPayload(reply: Buffer): Buffer | undefined {
  if (reply[0] !== DOLLAR) return undefined;
  const { value, next } = header(reply);
  return value < 0 ? undefined : reply.subarray(next, next + value);
}

export class KeyspaceFanout {
  private readonly everyShard: ReadonlySet<number>;
  private readonly shardBits: bigint;
  private readonly builders: ReadonlyMap<string, (spec: CommandSpec, argv: readonly Buffer[]) => TransactionBody | undefined>;

  /** `shardOf` gives the shard that owns a key. */
  constructor(
    private readonly shardCount: number,
    private readonly databases: number,
    private readonly shardOf: (key: Buffer) => number,
  ) {
    this.everyShard = new Set(Array.from({ length: shardCount }, (_, shard) => shard));
    this.shardBits = BigInt(32 - Math.clz32(shardCount - 1));
    const onEveryShard = (merge: (replies: readonly Buffer[]) => Buffer) => (_: CommandSpec, argv: readonly Buffer[]) => this.onEveryShard(argv, merge);
    this.builders = new Map([
      ['keys', onEveryShard(concatenateArrays)],
      ['dbsize', onEveryShard(sumIntegers)],
      ['flushdb', onEveryShard(commonReply)],
      ['flushall', onEveryShard(commonReply)],
      ['swapdb', onEveryShard(commonReply)],
      ['randomkey', (_, argv) => this.randomKey(argv)],
      ['scan', (_, argv) => this.scan(argv)],
      ['rename', (_, argv) => this.rename(argv, false)],
      ['renamenx', (_, argv) => this.rename(argv, true)],
      ['copy', (_, argv) => this.copy(argv)],
    ]);
  }

  /**
   * The transaction that runs this command (its name and arity already checked), or undefined when it
   * is none of these, or its keys share a shard and it goes straight there.
   */
  body(spec: CommandSpec, argv: readonly Buffer[]): TransactionBody | undefined {
    const builder = this.builders.get(spec.name);
    if (builder !== undefined) return builder(spec, argv);
    return spec.subcommands === undefined ? undefined : this.subcommandKey(spec, argv);
  }

  /** A reply that needs no shard (an argument error found here); it still keeps the client's order. */
  private answer(reply: Buffer): TransactionBody {
    return { shards: new Set(), run: () => Promise.resolve(reply) };
  }

  private onEveryShard(argv: readonly Buffer[], merge: (replies: readonly Buffer[]) => Buffer): TransactionBody {
    return {
      shards: this.everyShard,
      run: async (call) => merge(await Promise.all([...this.everyShard].map((shard) => call(shard, argv)))),
    };
  }

  private randomKey(argv: readonly Buffer[]): TransactionBody {
    return {
      shards: this.everyShard,
      run: async (call) => {
        const sizes = await Promise.all([...this.everyShard].map((shard) => call(shard, [DBSIZE])));
        const weights = sizes.map((reply) => header(reply).value);
        for (;;) {
          const total = weights.reduce((sum, weight) => sum + weight, 0);
          // No keys anywhere: shard 0 answers the null, in the client's protocol.
          if (total === 0) return call(0, argv);
          let draw = Math.random() * total;
          let shard = 0;
          while (draw >= weights[shard]) draw -= weights[shard++];
          const reply = await call(shard, argv);
          if (isError(reply) || bulkPayload(reply) !== undefined) return reply;
          // Null: every key that shard had was expired, and is deleted now.
          weights[shard] = 0;
        }
      },
    };
  }

  private scan(argv: readonly Buffer[]): TransactionBody {
    const cursor = parseScanCursor(argv[1]);
    if (cursor === undefined) return this.answer(errorReply(ERR_INVALID_CURSOR));
    const shard = Number(cursor & ((1n << this.shardBits) - 1n));
    if (shard >= this.shardCount) {
      const options = parseScanOptions(argv, 2, true);
      return this.answer(typeof options === 'string' ? errorReply(options) : EMPTY_SCAN_PAGE);
    }
    const shardCursor = Buffer.from((cursor >> this.shardBits).toString());
    return {
      shards: new Set([shard]),
      run: async (call) => {
        const reply = await call(shard, [argv[0], shardCursor, ...argv.slice(2)]);
        if (reply[0] !== STAR) return reply;
        // *2 CRLF $len CRLF cursor CRLF, then the keys' array as the shard wrote it.
        const cursorHeader = header(reply, reply.indexOf(DOLLAR));
        const next = BigInt(reply.toString('latin1', cursorHeader.next, cursorHeader.next + cursorHeader.value));
        const keys = reply.subarray(cursorHeader.next + cursorHeader.value + 2);
        const following = next !== 0n ? (next << this.shardBits) | BigInt(shard) : shard + 1 < this.shardCount ? BigInt(shard + 1) : 0n;
        const text = following.toString();
        return Buffer.concat([Buffer.from(`*2\r\n$${text.length}\r\n${text}\r\n`), keys]);
      },
    };
  }

  private rename(argv: readonly Buffer[], nx: boolean): TransactionBody | undefined {
    const [, source, destination] = argv;
    const from = this.shardOf(source);
    const to = this.shardOf(destination);
    if (from === to) return undefined;
    return {
      shards: new Set([from, to]),
      run: async (call) => {
        const dumped = await call(from, [KEY_DUMP, source]);
        const dump = bulkPayload(dumped);
        if (dump === undefined) return dumped;
        if (dump.length === 0) return errorReply(ERR_NO_SUCH_KEY);
        // Signalled as Redis signals RENAME: the destination's new key, then rename_from, then rename_to.
        const restored = await call(to, [KEY_RESTORE, destination, dump, nx ? NX : REPLACE, AS_NEW_KEY]);
        if (!restored.equals(ONE_REPLY)) return restored;
        await call(from, [KEY_DELETE, source, RENAME_FROM]);
        await call(to, [KEY_NOTIFY, destination, RENAME_TO]);
        return nx ? ONE_REPLY : OK_REPLY;
      },
    };
  }

  private copy(argv: readonly Buffer[]): TransactionBody | undefined {
    const [, source, destination] = argv;
    const from = this.shardOf(source);
    const to = this.shardOf(destination);
    if (from === to) return undefined;
    // Options first, as Redis reads them; two shards mean two different keys, never "the same object".
    const options = parseCopyOptions(argv, this.databases);
    if (typeof options === 'string') return this.answer(errorReply(options));
    const restore = [KEY_RESTORE, destination, Buffer.alloc(0), options.replace ? REPLACE : NX, AS_COPY];
    if (options.targetDb !== undefined) restore.push(Buffer.from(String(options.targetDb)));
    return {
      shards: new Set([from, to]),
      run: async (call) => {
        const dumped = await call(from, [KEY_DUMP, source]);
        const dump = bulkPayload(dumped);
        if (dump === undefined) return dumped;
        if (dump.length === 0) return ZERO_REPLY;
        restore[2] = dump;
        return call(to, restore);
      },
    };
  }

  /** A container command whose subcommand names a key (OBJECT ENCODING key): to that key's shard. */
  private subcommandKey(spec: CommandSpec, argv: readonly Buffer[]): TransactionBody | undefined {
    const sub = argv.length > 1 ? spec.subcommands?.get(argText(argv[1]).toLowerCase()) : undefined;
    if (sub === undefined) return undefined;
    const positions = keyPositions(sub, argv.length);
    if (positions.length === 0) return undefined;
    const shard = this.shardOf(argv[positions[0]]);
    return { shards: new Set([shard]), run: (call) => call(shard, argv) };
  }
}
