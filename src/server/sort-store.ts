/**
 * SORT … STORE whose destination lives on another shard than the sorted key. BY and GET patterns must
 * read the sorted key's shard, so the sort runs there (`_sabre.sort-dump`, which replies the list STORE
 * would write, as a key dump) and the list is then written on the destination's shard, with both shards
 * held by the transaction so no client sees the step between.
 */
import { sortStoreKey } from '../commands/key-specs.js';
import { INTERNAL_SORT_DUMP } from '../commands/sort.js';
import { bulkPayload } from './keyspace-fanout.js';
import type { TransactionBody } from './multi-shard.js';
import { KEY_RESTORE, REPLACE, ZERO_REPLY } from './internal-steps.js';

const SORT_DUMP = Buffer.from(INTERNAL_SORT_DUMP);
const DEL = Buffer.from('DEL');
const LLEN = Buffer.from('LLEN');
const AS_SORTSTORE = Buffer.from('sortstore');

/** The transaction for `argv` (a SORT naming keys on two shards), or undefined when it has no STORE. */
export function sortStoreBody(argv: readonly Buffer[], shardOf: (key: Buffer) => number): TransactionBody | undefined {
  const storeAt = sortStoreKey(argv);
  if (storeAt === undefined) return undefined;
  const source = shardOf(argv[1]);
  const destination = argv[storeAt];
  const target = shardOf(destination);
  return {
    shards: new Set([source, target]),
    run: async (call) => {
      const reply = await call(source, [SORT_DUMP, ...argv.slice(1)]);
      const dump = bulkPayload(reply);
      if (dump === undefined) return reply;
      if (dump.length === 0) {
        await call(target, [DEL, destination]);
        return ZERO_REPLY;
      }
      const restored = await call(target, [KEY_RESTORE, destination, dump, REPLACE, AS_SORTSTORE]);
      if (restored[0] === 0x2d) return restored;
      // The stored list's length is SORT's reply.
      return call(target, [LLEN, destination]);
    },
  };
}
