import { describe, expect, it } from 'vitest';
import { checkArena } from 'native-free-alloc';
import { Shard } from '../../src/shard/shard.js';
import { MemoryBoard } from '../../src/shard/memory-board.js';
import { EVICTION_POLICIES } from '../../src/shard/eviction.js';

const b = (s: string) => Buffer.from(s);

describe('a shard out of memory', () => {
  it('answers -OOM, keeps every stored byte, and works again once memory is freed', () => {
    const shard = new Shard({ arena: { memoryLimit: 4 * 1024 * 1024 } });
    const run = (...args: (string | Buffer)[]) => shard.execute(0, 2, args.map((a) => (typeof a === 'string' ? b(a) : a))).toString();
    const value = Buffer.alloc(700, 'v');
    let stored = 0;
    let reply = '';
    for (; stored < 100_000; stored++) {
      const expiring = stored % 3 === 0 ? ['EX', '1000'] : [];
      reply = run('SET', `k${stored}`, value, ...expiring);
      if (reply !== '+OK\r\n') break;
    }
    expect(reply).toBe("-OOM command not allowed when used memory > 'maxmemory'.\r\n");
    expect(stored).toBeGreaterThan(1000);
    checkArena(shard.arena);
    // Refused writes of every shape leave the keyspace as it was.
    expect(run('APPEND', 'k0', Buffer.alloc(100_000, 'x'))).toMatch(/^-OOM /);
    expect(run('SET', 'k1', Buffer.alloc(100_000, 'y'))).toMatch(/^-OOM /);
    for (let i = 0; i < stored; i++) expect(run('STRLEN', `k${i}`)).toBe(':700\r\n');
    expect(run('GET', 'k1')).toBe(`$700\r\n${value.toString()}\r\n`);
    // The TTL was set when filling began, which on a loaded machine may be over a second ago.
    expect(run('TTL', 'k0')).toMatch(/^:(999|1000)\r\n$/);
    checkArena(shard.arena);
    // Deleting frees room; writes work again.
    for (let i = 0; i < 200; i++) run('DEL', `k${i}`);
    expect(run('SET', 'again', value)).toBe('+OK\r\n');
    expect(run('GET', 'again')).toBe(`$700\r\n${value.toString()}\r\n`);
    checkArena(shard.arena);
  });
});

describe('a reply past the shard writer limit', () => {
  it('answers an error instead of growing without bound, and the shard keeps serving', () => {
    const shard = new Shard({ maxReplyBytes: 1 << 20 });
    const run = (...args: string[]) => shard.execute(0, 2, args.map(b)).toString();
    expect(run('SADD', 's', 'a', 'b', 'c')).toBe(':3\r\n');
    expect(run('SRANDMEMBER', 's', '-9223372036854775807')).toBe("-ERR the reply would exceed sabre's reply size limit of 1048576 bytes\r\n");
    expect(run('SRANDMEMBER', 's', '-1000')).toMatch(/^\*1000\r\n/);
    expect(run('HSET', 'h', 'f', 'v')).toBe(':1\r\n');
    expect(run('HRANDFIELD', 'h', '-1000000')).toMatch(/^-ERR the reply would exceed/);
    expect(run('SCARD', 's')).toBe(':3\r\n');
  });
});

describe('a shard over the maxmemory budget with nothing to evict', () => {
  it('refuses a command that may add data, but not a step of one the front admitted whole', () => {
    const { buffer } = MemoryBoard.create(1);
    const shard = new Shard({ board: { buffer, index: 0 }, settings: { maxmemory: 1, 'maxmemory-policy': EVICTION_POLICIES.indexOf('noeviction') } });
    const set = (key: string, step: boolean) => shard.execute(0, 2, [b('SET'), b(key), b('v')], -1, 0, step).toString();
    expect(set('alone', false)).toBe("-OOM command not allowed when used memory > 'maxmemory'.\r\n");
    expect(set('step', true)).toBe('+OK\r\n');
    expect(shard.execute(0, 2, [b('EXISTS'), b('alone'), b('step')]).toString()).toBe(':1\r\n');
  });
});
