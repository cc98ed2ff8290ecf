/**
 * The shard's propagation stream on its own: nothing is encoded until someone turns it on, a command
 * propagates only when it changed something, and the records decode back to the commands in order.
 */
import { describe, expect, it } from 'vitest';
import { Shard } from '../../src/shard/shard.js';
import { NO_DB, Propagation, RecordKind, readRecords } from '../../src/shard/propagation.js';

const argv = (...words: string[]) => words.map((word) => Buffer.from(word));

function records(shard: Shard): { kind: number; db: number; command: string }[] {
  const bytes = shard.signals.propagation?.take();
  if (bytes === undefined) return [];
  return [...readRecords(bytes)].map(({ kind, db, command }) => ({ kind, db, command: Buffer.from(command).toString('latin1') }));
}

describe('the propagation stream of a shard', () => {
  it('encodes nothing while nobody consumes it', () => {
    const shard = new Shard();
    shard.execute(0, 2, argv('SET', 'k', 'v'));
    expect(shard.signals.propagation).toBeUndefined();
  });

  it('propagates what changed, rewritten, with the database, and wraps a command with its expiry deletion', async () => {
    const shard = new Shard();
    shard.signals.propagation = new Propagation();
    shard.execute(3, 2, argv('SET', 'k', 'v'));
    shard.execute(3, 2, argv('GET', 'k'));
    shard.execute(3, 2, argv('DEL', 'missing'));
    expect(records(shard)).toEqual([{ kind: RecordKind.Command, db: 3, command: '*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n' }]);

    shard.execute(0, 2, argv('SET', 'gone', 'v', 'PX', '1'));
    const [set] = records(shard);
    expect(set.command).toMatch(/^\*5\r\n\$3\r\nSET\r\n\$4\r\ngone\r\n\$1\r\nv\r\n\$4\r\nPXAT\r\n\$13\r\n\d{13}\r\n$/);
    await new Promise((resolve) => setTimeout(resolve, 5));
    shard.execute(0, 2, argv('SET', 'gone', 'w'));
    expect(records(shard).map(({ kind, db, command }) => [kind, db, command.split('\r\n')[2]])).toEqual([
      [RecordKind.Multi, NO_DB, 'MULTI'],
      [RecordKind.Command, 0, 'DEL'],
      [RecordKind.Command, 0, 'SET'],
      [RecordKind.Exec, NO_DB, 'EXEC'],
    ]);
  });
});
