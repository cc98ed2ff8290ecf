/**
 * Any other command whose keys live on several shards (BITOP, LCS, PFCOUNT, PFMERGE, SINTERSTORE,
 * ZUNIONSTORE, …), run atomically by the front on a scratch copy of its keys.
 *
 * The transaction holds every involved shard (multi-shard.ts), copies each key the command names into
 * a scratch shard engine on the main thread (through the key dump that cross-shard RENAME uses), runs
 * the command there with the shard's own code, and writes every key the command may write back to the
 * shard that owns it (or deletes it there when the command left it absent). The command's logic and
 * replies are therefore exactly the single-shard ones; the cost is copying the keys, which only these
 * commands pay, and only when their keys are spread.
 */
import type { KeyPosition } from '../commands/key-specs.js';
import { dumpKey, restoreKey } from '../shard/key-dump.js';
import type { Shard } from '../shard/shard.js';
import type { KeyspaceEvent } from '../shard/keyspace-signals.js';
import { bulkPayload } from './keyspace-fanout.js';
import type { ShardCall, TransactionBody } from './multi-shard.js';
import { KEY_DELETE, KEY_DUMP, KEY_RESTORE, REPLACE } from './internal-steps.js';

/** The write-back is silent: the scratch shard made the command's events, which the front publishes. */
const SILENTLY = Buffer.from('SILENT');

export interface CrossShardCommand {
  argv: readonly Buffer[];
  keys: readonly KeyPosition[];
  db: number;
  protocol: 2 | 3;
}

export function crossShardBody(
  command: CrossShardCommand,
  shardOf: (key: Buffer) => number,
  scratch: Shard,
  /** Receives the notifications the command made on the scratch shard, once its writes are back. */
  publish: (events: KeyspaceEvent[]) => void,
): TransactionBody {
  const { argv, keys, db: dbIndex, protocol } = command;
  // Each distinct key once, written if any of its positions may be written.
  const distinct = new Map<string, { key: Buffer; written: boolean }>();
  for (const { index, written } of keys) {
    const name = argv[index].toString('latin1');
    const seen = distinct.get(name);
    distinct.set(name, { key: argv[index], written: (seen?.written ?? false) || written });
  }
  const shards = new Set([...distinct.values()].map(({ key }) => shardOf(key)));
  return {
    shards,
    run: async (call: ShardCall) => {
      const db = scratch.databases[dbIndex];
      const before = new Map<string, Buffer>();
      try {
        for (const [name, { key }] of distinct) {
          const reply = await call(shardOf(key), [KEY_DUMP, key]);
          const dump = bulkPayload(reply);
          if (dump === undefined) return reply;
          if (dump.length === 0) continue;
          before.set(name, dump);
          if (restoreKey(db, key, dump) === 0) return Buffer.from('-ERR sabre cannot copy this key between shards\r\n');
        }
        const reply = Buffer.from(scratch.execute(dbIndex, protocol, argv));
        const events = [...scratch.signals.events];
        // Every write-back is decided before any is sent, so a value that cannot travel changes nothing.
        const writes: Buffer[][] = [];
        for (const [name, { key, written }] of distinct) {
          if (!written) continue;
          const entry = db.lookupNoTouch(key);
          const after = entry === 0 ? undefined : dumpKey(db, entry);
          if (entry !== 0 && after === undefined) return Buffer.from('-ERR sabre cannot copy this key between shards\r\n');
          const previous = before.get(name);
          if (after === undefined ? previous === undefined : previous !== undefined && after.equals(previous)) continue;
          writes.push(after === undefined ? [KEY_DELETE, key, SILENTLY] : [KEY_RESTORE, key, after, REPLACE, SILENTLY]);
        }
        for (const write of writes) await call(shardOf(write[1]), write);
        publish(events);
        return reply;
      } finally {
        db.flush();
        // The scratch shard has no idle loop: whatever a lazyfree setting queued is freed now.
        scratch.lazyFree.drain();
      }
    },
  };
}
