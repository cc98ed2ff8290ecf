/**
 * Commands only sabre has, for the allocator laboratory. They are not in the command table (Redis 7.0's
 * metadata), so COMMAND, COMMAND COUNT, COMMAND DOCS and every differential comparison with a real
 * redis-server stay exactly as Redis answers; the front looks a name up here only once the table has
 * not found it, off the hot path. Named `sabre.*`, as Redis modules name theirs. They are not queued by
 * MULTI (inside a transaction they are unknown commands, as in Redis).
 *
 * SABRE.PAGEMAP: the occupancy of every data page of every shard's arena, at this moment, as CSV text
 * (one line per page: shard, segment, page, kind, slot size, live slots, slot capacity) — what
 * `npm run frag -- --pagemap host:port` draws as a heat map. Each shard walks its own pages, all shards
 * held still, so the lines with live slots add up to INFO's sabre_allocator_active_pages.
 */
import { argText } from '../commands/context.js';
import { wrongArity } from '../protocol/errors.js';
import { ShardOp } from '../shard/frames.js';
import type { ShardPageMap } from '../shard/operations.js';
import type { ConnectionHandler } from './connection-commands.js';

/** PageKind's values (native-free-alloc layout.ts), as the page map names them. */
export const PAGE_KINDS: readonly string[] = ['free', 'metadata', 'slab-head', 'slab-tail', 'run-head', 'run-tail'];

export const PAGE_MAP_HEADER = 'shard,segment,page,kind,slot_size,live,capacity';

function pageMapText(shards: readonly ShardPageMap[]): string {
  const lines = [PAGE_MAP_HEADER];
  shards.forEach(({ pages, places }, shard) => {
    for (let i = 0, p = 0; i < pages.length; i += 4, p += 2) {
      lines.push(`${shard},${places[p]},${places[p + 1]},${PAGE_KINDS[pages[i]]},${pages[i + 1]},${pages[i + 2]},${pages[i + 3]}`);
    }
  });
  return `${lines.join('\n')}\n`;
}

const pagemap: ConnectionHandler = async ({ client, argv, server }) => {
  if (argv.length !== 1) return (w) => w.error(wrongArity('sabre.pagemap'));
  const shards = (await server.onEveryShard(client, ShardOp.PageMap, null)) as ShardPageMap[];
  const text = pageMapText(shards);
  return (w) => w.verbatim(text);
};

const SABRE_COMMANDS: ReadonlyMap<string, ConnectionHandler> = new Map([['sabre.pagemap', pagemap]]);

/** The sabre-only command named by `name` in any letter case, with its lower-case name; undefined if none. */
export function sabreCommand(name: Uint8Array): { name: string; handler: ConnectionHandler } | undefined {
  const lower = argText(name).toLowerCase();
  const handler = SABRE_COMMANDS.get(lower);
  return handler === undefined ? undefined : { name: lower, handler };
}
