/**
 * HSCAN, SSCAN and ZSCAN share Redis's SCAN-over-one-key rules: the cursor is checked first, a missing
 * key is an empty last page, the options are read only once the key is found (so a missing key hides a
 * bad option), a small encoding comes back whole with cursor 0 whatever the cursor and COUNT, and a
 * hash table is walked with a budget of ten buckets per COUNT until COUNT items are gathered (a field
 * with its value, or a member with its score, counts once, as in Redis 7.0).
 * MATCH filters by the element's name (a field, a member) after the walk, as Redis does.
 */
import { ERR_INVALID_CURSOR } from '../protocol/errors.js';
import type { ReplyWriter } from '../protocol/reply-writer.js';
import type { CommandHandler, ExecutionContext } from './context.js';
import { parseScanCursor, parseScanOptions } from './scan.js';

/** One key's collection as its SCAN sees it. */
export interface ScannedCollection<T> {
  /** Every item, when the encoding is a small one that is returned whole; undefined for a hash table. */
  whole(): T[] | undefined;
  /** Appends the items of the buckets at `cursor` and returns the next cursor (0 when done). */
  step(cursor: number, into: T[]): number;
}

export interface CollectionScanShape<T> {
  /** The collection at `key`; null when there is no key, undefined when an error was answered. */
  open(ctx: ExecutionContext, key: Buffer): ScannedCollection<T> | null | undefined;
  /** The bytes MATCH tests. */
  name(item: T): Uint8Array;
  /** Reply elements per item: 2 for field and value, or member and score; 1 for a set member. */
  width: 1 | 2;
  write(reply: ReplyWriter, item: T): void;
}

export function collectionScan<T>(shape: CollectionScanShape<T>): CommandHandler {
  return (ctx, argv) => {
    const cursor = parseScanCursor(argv[2]);
    if (cursor === undefined) return ctx.reply.error(ERR_INVALID_CURSOR);
    const found = shape.open(ctx, argv[1]);
    if (found === undefined) return;
    if (found === null) {
      ctx.reply.arrayHeader(2);
      ctx.reply.bulk('0');
      return ctx.reply.arrayHeader(0);
    }
    const options = parseScanOptions(argv, 3, false);
    if (typeof options === 'string') return ctx.reply.error(options);
    let items = found.whole();
    let next = 0;
    if (items === undefined) {
      items = [];
      next = Number(cursor & 0xffffffffn);
      let iterations = options.count * 10;
      do {
        next = found.step(next, items);
      } while (next !== 0 && iterations-- !== 0 && items.length < options.count);
    }
    const pattern = options.pattern;
    const kept = pattern === undefined ? items : items.filter((item) => pattern.matches(shape.name(item)));
    ctx.reply.arrayHeader(2);
    ctx.reply.bulk(String(next));
    ctx.reply.arrayHeader(kept.length * shape.width);
    for (const item of kept) shape.write(ctx.reply, item);
  };
}
