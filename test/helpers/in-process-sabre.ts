/**
 * sabre's execution core in-process (one database, the command table, the reply writer), and the
 * reply-for-reply comparison of a command sequence between it and a real redis-server.
 *
 * Only strings exist in sabre so far, so a key of another type is made by hand for WRONGTYPE checks: a
 * generator emits `[MAKE_HASH, key]`, which becomes `DEL key` + `HSET key f v` on Redis and, on sabre,
 * a string entry whose type byte is rewritten to Hash: exactly what a hash key will look like to the
 * type checks of the string commands.
 */
import { Arena, byteOffsetOf, segmentOf } from 'native-free-alloc';
import { execute } from '../../src/commands/dispatch.js';
import { CommandTable } from '../../src/commands/table.js';
import { ReplyWriter } from '../../src/protocol/reply-writer.js';
import { Database } from '../../src/shard/database.js';
import { E_TYPE_BYTE, ValueType } from '../../src/shard/entry.js';
import { b, sameReply, type RedisConnection } from './differential.js';

export const MAKE_HASH = '__make_hash__';

export class InProcessSabre {
  readonly arena = new Arena();
  readonly db = new Database(this.arena);
  private readonly table = new CommandTable();
  private readonly reply = new ReplyWriter();

  constructor(protocol: 2 | 3 = 2) {
    this.reply.protocol = protocol;
  }

  run(argv: readonly Buffer[]): Buffer {
    execute(this.table.lookup(argv[0]), { db: this.db, reply: this.reply, now: Date.now(), databases: [this.db], dbIndex: 0 }, argv);
    return this.reply.take();
  }

  /** Replaces `key` with a key of type hash (see the module comment). */
  makeHash(key: Buffer): void {
    this.db.delete(key);
    const entry = this.db.setString(key, b('f'));
    this.arena.u8[segmentOf(entry)][byteOffsetOf(entry) + E_TYPE_BYTE] = ValueType.Hash;
  }
}

const shown = (arg: Buffer): string => JSON.stringify(arg.length > 40 ? `${arg.toString('latin1', 0, 20)}…(${arg.length})` : arg.toString('latin1'));
const replyText = (reply: Buffer): string => JSON.stringify(reply.length > 300 ? `${reply.toString('latin1', 0, 300)}…(${reply.length})` : reply.toString('latin1'));

/**
 * Runs `commands` on both sides, Redis as one pipeline, and returns a description of each reply that
 * differs (at most `limit`), so a failing test shows the commands and both replies.
 */
export async function differences(
  redis: RedisConnection,
  sabre: InProcessSabre,
  commands: readonly (readonly Buffer[])[],
  limit = 10,
): Promise<string[]> {
  const sent: Buffer[][] = [];
  const compared: number[] = [];
  for (const argv of commands) {
    if (argv[0].toString('latin1') === MAKE_HASH) sent.push([b('DEL'), argv[1]], [b('HSET'), argv[1], b('f'), b('v')]);
    else {
      compared.push(sent.length);
      sent.push([...argv]);
    }
  }
  const expected = await redis.run(sent);
  const mismatches: string[] = [];
  let next = 0;
  for (const argv of commands) {
    if (argv[0].toString('latin1') === MAKE_HASH) {
      sabre.makeHash(argv[1]);
      continue;
    }
    const actual = sabre.run(argv);
    const theirs = expected[compared[next++]];
    if (!sameReply(argv[0].toString('latin1').toLowerCase(), actual, theirs) && mismatches.length < limit) {
      mismatches.push(`${argv.map(shown).join(' ')}\n    sabre: ${replyText(actual)}\n    redis: ${replyText(theirs)}`);
    }
  }
  return mismatches;
}
