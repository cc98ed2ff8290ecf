/**
 * The blocking commands (BLPOP BRPOP BLMOVE BRPOPLPUSH BLMPOP BZPOPMIN BZPOPMAX BZMPOP) on sabre with
 * three shards beside a real redis-server: the same replies byte for byte for immediate pops, argument
 * errors, timeouts (RESP2 and RESP3 nulls), MULTI/EXEC, CLIENT UNBLOCK, FIFO service of clients blocked
 * on one key and a push served to the blocked client before a concurrent pop sees it; then sabre's own
 * cases (keys on different shards, disconnection, pipelining behind a blocked command).
 */
import { describe, expect, it } from 'vitest';
import { RedisConnection, b } from '../helpers/differential.js';
import { keysOnEveryShard } from '../helpers/keyspace.js';
import { sabreBesideRedis, type ServerPair } from '../helpers/sabre-server.js';

const text = (reply: Buffer) => reply.toString('latin1');
const commands = (lines: string[][]) => lines.map((args) => args.map(b));

async function open(port: number): Promise<RedisConnection> {
  return RedisConnection.open(port);
}

/** One connection's replies as text, HELLO's left out (its server fields differ). */
async function script(port: number, lines: string[][]): Promise<string[]> {
  const connection = await open(port);
  try {
    const replies = await connection.run(commands(lines));
    return replies.map(text).filter((_, i) => lines[i][0].toUpperCase() !== 'HELLO');
  } finally {
    connection.close();
  }
}

async function sameScript(servers: ServerPair, lines: string[][]): Promise<string[]> {
  const ours = await script(servers.sabre.port, lines);
  if (servers.redis !== undefined) expect(ours).toEqual(await script(servers.redis.port, lines));
  return ours;
}

/** Waits until the server reports `count` blocked clients. */
async function blockedClients(port: number, count: number): Promise<void> {
  const connection = await open(port);
  try {
    for (let round = 0; round < 500; round++) {
      const [info] = await connection.run(commands([['INFO', 'clients']]));
      if (text(info).includes(`blocked_clients:${count}\r\n`)) return;
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    throw new Error(`never saw blocked_clients:${count}`);
  } finally {
    connection.close();
  }
}

/** Runs `scenario` on sabre and on redis-server (when present) and expects the same result. */
async function sameScenario<T>(servers: ServerPair, scenario: (port: number) => Promise<T>): Promise<T> {
  const ours = await scenario(servers.sabre.port);
  if (servers.redis !== undefined) expect(ours).toEqual(await scenario(servers.redis.port));
  return ours;
}

describe('blocking commands, sabre (3 shards) beside redis-server', () => {
  const servers = sabreBesideRedis(['--shards', '3']);
  const [k1, k2, k3] = keysOnEveryShard('blk');

  it('pops at once, with the blocking shapes, when a key has elements', async () => {
    await sameScript(servers, [
      ['FLUSHALL'],
      ['RPUSH', '{t}l', 'a', 'b', 'c', 'd', 'e', 'f'],
      ['BLPOP', '{t}none', '{t}l', '0'],
      ['BRPOP', '{t}l', '{t}none', '0'],
      ['BLMPOP', '0', '2', '{t}none', '{t}l', 'LEFT', 'COUNT', '2'],
      ['BLMOVE', '{t}l', '{t}d', 'LEFT', 'RIGHT', '0'],
      ['BRPOPLPUSH', '{t}l', '{t}d', '0'],
      ['BLMOVE', '{t}d', '{t}d', 'RIGHT', 'LEFT', '0'],
      ['LRANGE', '{t}d', '0', '-1'],
      ['EXISTS', '{t}l'],
      ['ZADD', '{t}z', '1', 'a', '2.5', 'b', '3', 'c', '4', 'd'],
      ['BZPOPMIN', '{t}none', '{t}z', '0'],
      ['BZPOPMAX', '{t}z', '0'],
      ['BZMPOP', '0', '1', '{t}z', 'MIN', 'COUNT', '10'],
      ['EXISTS', '{t}z'],
      ['HELLO', '3'],
      ['ZADD', '{t}z', '1.5', 'a', '2', 'b'],
      ['BZPOPMIN', '{t}z', '0'],
      ['BZMPOP', '0', '1', '{t}z', 'MAX'],
      ['RPUSH', '{t}l', 'x'],
      ['BLPOP', '{t}l', '0'],
    ]);
  });

  it('refuses bad arguments with Redis errors, in Redis order', async () => {
    const replies = await sameScript(servers, [
      ['FLUSHALL'],
      ['BLPOP', '{t}x', '-1'],
      ['BLPOP', '{t}x', 'abc'],
      ['BLPOP', '{t}x', 'inf'],
      ['BLPOP', '{t}x', '-inf'],
      ['BLPOP', '{t}x', '1e400'],
      ['BLPOP', '{t}x', '1e20'],
      ['BLPOP', '{t}x', ''],
      ['BLPOP', '{t}x', 'nan'],
      ['BLPOP', '{t}x', ' 1'],
      ['BRPOP', '{t}x', '-0.5'],
      ['BLPOP', '{t}x'],
      ['BLMOVE', '{t}x', '{t}y', 'UP', 'LEFT', '-1'],
      ['BLMOVE', '{t}x', '{t}y', 'LEFT', 'RIGHT', 'abc'],
      ['BRPOPLPUSH', '{t}x', '{t}y', '-1'],
      ['BLMPOP', 'abc', '0', '{t}x', 'LEFT'],
      ['BLMPOP', '0', '0', '{t}x', 'LEFT'],
      ['BLMPOP', '0', '-1', '{t}x', 'LEFT'],
      ['BLMPOP', '0', '1', '{t}x', 'MIDDLE'],
      ['BLMPOP', '0', '2', '{t}x', 'LEFT'],
      ['BLMPOP', '0', '1', '{t}x', 'LEFT', 'COUNT', '0'],
      ['BLMPOP', '0', '1', '{t}x', 'LEFT', 'COUNT'],
      ['BLMPOP', '0', '1', '{t}x'],
      ['BZMPOP', '0', '1', '{t}x', 'MIN', 'COUNT', '-1'],
      ['BZMPOP', '0', '1', '{t}x', 'LEFT'],
      ['BZPOPMIN', '{t}x', 'x'],
      ['SET', '{t}s', 'v'],
      ['BLPOP', '{t}s', '0'],
      ['BLPOP', '{t}x', '{t}s', '0'],
      ['BZPOPMAX', '{t}s', '0'],
      ['BLMPOP', '0', '2', '{t}x', '{t}s', 'LEFT'],
      ['BZMPOP', '0', '1', '{t}s', 'MIN'],
      ['BLMOVE', '{t}s', '{t}y', 'LEFT', 'LEFT', '0'],
      ['RPUSH', '{t}l', '1'],
      ['BLMOVE', '{t}l', '{t}s', 'LEFT', 'LEFT', '0'],
      ['BRPOPLPUSH', '{t}l', '{t}s', '0'],
      ['LLEN', '{t}l'],
    ]);
    expect(replies[1]).toBe('-ERR timeout is negative\r\n');
    expect(replies[2]).toBe('-ERR timeout is not a float or out of range\r\n');
  });

  it('times out with the null reply of each command, RESP2 and RESP3', async () => {
    const lines = [
      ['BLPOP', '{t}x', '0.01'],
      ['BRPOP', '{t}x', '{t}y', '0.01'],
      ['BLMOVE', '{t}x', '{t}y', 'LEFT', 'RIGHT', '0.01'],
      ['BRPOPLPUSH', '{t}x', '{t}y', '0.01'],
      ['BLMPOP', '0.01', '2', '{t}x', '{t}y', 'LEFT'],
      ['BZPOPMIN', '{t}x', '0.01'],
      ['BZPOPMAX', '{t}x', '0.01'],
      ['BZMPOP', '0.01', '1', '{t}x', 'MIN'],
      ['BLPOP', k1, k2, k3, '0.01'],
      ['BLMOVE', k1, k2, 'LEFT', 'RIGHT', '0.01'],
    ];
    const replies = await sameScript(servers, [['FLUSHALL'], ...lines, ['HELLO', '3'], ...lines]);
    expect(replies.slice(1, 1 + lines.length)).toEqual(lines.map(() => '*-1\r\n'));
    expect(replies.slice(1 + lines.length)).toEqual(lines.map(() => '_\r\n'));
  });

  it('counts blocked clients, and those with a timeout, in INFO clients', async () => {
    const counted = await sameScenario(servers, async (port) => {
      const [forever, timed, admin] = await Promise.all([open(port), open(port), open(port)]);
      try {
        const waiting = [forever.run(commands([['BLPOP', '{t}c1', '0']])), timed.run(commands([['BLPOP', k1, k2, '30']]))];
        await blockedClients(port, 2);
        const [info] = await admin.run(commands([['INFO', 'clients']]));
        await admin.run(commands([['RPUSH', '{t}c1', 'v'], ['RPUSH', k2, 'v']]));
        await Promise.all(waiting);
        const [after] = await admin.run(commands([['INFO', 'clients']]));
        const counters = (reply: Buffer) => text(reply).match(/(blocked_clients|clients_in_timeout_table):\d+/g);
        return [counters(info), counters(after)];
      } finally {
        for (const connection of [forever, timed, admin]) connection.close();
      }
    });
    expect(counted).toEqual([
      ['blocked_clients:2', 'clients_in_timeout_table:1'],
      ['blocked_clients:0', 'clients_in_timeout_table:0'],
    ]);
  });

  it('waits about as long as the timeout says, to the millisecond', async () => {
    const connection = await open(servers.sabre.port);
    try {
      const started = performance.now();
      const [reply] = await connection.run(commands([['BLPOP', '{t}never', '0.15']]));
      const waited = performance.now() - started;
      expect(text(reply)).toBe('*-1\r\n');
      expect(waited).toBeGreaterThanOrEqual(145);
      expect(waited).toBeLessThan(600);
    } finally {
      connection.close();
    }
  });

  it('answers at once inside MULTI/EXEC, null when the keys are empty', async () => {
    await sameScript(servers, [
      ['FLUSHALL'],
      ['MULTI'],
      ['BLPOP', '{t}x', '0'],
      ['BLMOVE', '{t}x', '{t}y', 'LEFT', 'LEFT', '0'],
      ['BRPOPLPUSH', '{t}x', '{t}y', '0'],
      ['BZPOPMIN', '{t}x', '0'],
      ['BLMPOP', '0', '1', '{t}x', 'LEFT'],
      ['BZMPOP', '0', '1', '{t}x', 'MAX'],
      ['RPUSH', '{t}x', 'a', 'b'],
      ['BLPOP', '{t}x', '0'],
      ['BLMOVE', '{t}x', '{t}y', 'LEFT', 'LEFT', '0'],
      ['BLPOP', k1, k2, '0'],
      ['RPUSH', k2, 'spread'],
      ['BLPOP', k1, k2, '0'],
      ['BLPOP', '{t}x', '-1'],
      ['EXEC'],
    ]);
  });

  it('pops at once across shards, and moves between shards', async () => {
    await sameScript(servers, [
      ['FLUSHALL'],
      ['RPUSH', k2, 'a', 'b', 'c'],
      ['BLPOP', k1, k2, k3, '0'],
      ['BLMPOP', '0', '3', k1, k3, k2, 'RIGHT', 'COUNT', '1'],
      ['BLMOVE', k2, k3, 'LEFT', 'LEFT', '0'],
      ['LRANGE', k3, '0', '-1'],
      ['EXISTS', k2],
      ['ZADD', k3 + 'z', '1', 'm'],
      ['BZPOPMIN', k1, k3 + 'z', '0'],
    ]);
  });

  it('answers each command in its own shape when woken, RESP2 and RESP3, and only by a key of its type', async () => {
    const wakes: [string[], string[][]][] = [
      [['BLPOP', '{t}w1', '{t}w2', '0'], [['RPUSH', '{t}w2', 'a', 'b']]],
      [['BRPOP', '{t}w1', '0'], [['RPUSH', '{t}w1', 'a', 'b']]],
      [['BLMPOP', '0', '2', '{t}w1', '{t}w2', 'RIGHT', 'COUNT', '5'], [['RPUSH', '{t}w2', 'a', 'b', 'c']]],
      [['BLMOVE', '{t}w1', '{t}w2', 'RIGHT', 'LEFT', '0'], [['RPUSH', '{t}w1', 'a', 'b']]],
      [['BRPOPLPUSH', '{t}w1', '{t}w2', '0'], [['RPUSH', '{t}w1', 'c']]],
      [['BZPOPMIN', '{t}w1', '{t}w3', '0'], [['ZADD', '{t}w3', '2.5', 'x', '1', 'y']]],
      [['BZPOPMAX', '{t}w3', '0'], [['ZADD', '{t}w3', '7', 'z']]],
      [['BZMPOP', '0', '1', '{t}w3', 'MAX', 'COUNT', '2'], [['ZADD', '{t}w3', '3', 'p', '4', 'q', '5', 'r']]],
      // Woken with a destination of another type: WRONGTYPE, and the element stays.
      [['BLMOVE', '{t}w1', '{t}w5', 'LEFT', 'LEFT', '0'], [['SET', '{t}w5', 'x'], ['RPUSH', '{t}w1', 'v'], ['LRANGE', '{t}w1', '0', '-1']]],
      // A list does not serve a sorted-set waiter; the sorted set that replaces it does.
      [['BZPOPMIN', '{t}w4', '0'], [['RPUSH', '{t}w4', 'l'], ['DEL', '{t}w4'], ['ZADD', '{t}w4', '1', 'm']]],
    ];
    await sameScenario(servers, async (port) => {
      const [waiter, pusher] = await Promise.all([open(port), open(port)]);
      try {
        const replies: string[] = [];
        for (const protocol of ['2', '3']) {
          await waiter.run(commands([['HELLO', protocol]]));
          for (const [command, pushes] of wakes) {
            await pusher.run(commands([['FLUSHALL']]));
            const waiting = waiter.run(commands([command]));
            await blockedClients(port, 1);
            replies.push(...(await pusher.run(commands(pushes))).map(text));
            replies.push(...(await waiting).map(text));
            replies.push(...(await pusher.run(commands([['LRANGE', '{t}w2', '0', '-1'], ['ZRANGE', '{t}w3', '0', '-1', 'WITHSCORES']]))).map(text));
          }
        }
        return replies;
      } finally {
        waiter.close();
        pusher.close();
      }
    });
  });

  it('serves clients blocked on one key first come, first served', async () => {
    const served = await sameScenario(servers, async (port) => {
      const [first, second, pusher] = await Promise.all([open(port), open(port), open(port)]);
      try {
        await pusher.run(commands([['FLUSHALL']]));
        const one = first.run(commands([['BLPOP', '{t}fifo', '0']]));
        await blockedClients(port, 1);
        const two = second.run(commands([['BRPOP', '{t}fifo', '0']]));
        await blockedClients(port, 2);
        const pushed = await pusher.run(commands([['RPUSH', '{t}fifo', 'x', 'y', 'z'], ['LRANGE', '{t}fifo', '0', '-1']]));
        return [...(await one), ...(await two), ...pushed].map(text);
      } finally {
        for (const connection of [first, second, pusher]) connection.close();
      }
    });
    expect(served[0]).toBe('*2\r\n$7\r\n{t}fifo\r\n$1\r\nx\r\n');
    expect(served[1]).toBe('*2\r\n$7\r\n{t}fifo\r\n$1\r\nz\r\n');
  });

  it('serves the blocked client before any later command sees the pushed element', async () => {
    const seen = await sameScenario(servers, async (port) => {
      const [waiter, other] = await Promise.all([open(port), open(port)]);
      const replies: string[] = [];
      try {
        for (let round = 0; round < 20; round++) {
          const waiting = waiter.run(commands([['BLMOVE', '{t}src', '{t}dst', 'RIGHT', 'LEFT', '0']]));
          await blockedClients(port, 1);
          // One pipeline: the pop runs right after the push, on the same shard.
          const raced = await other.run(commands([['RPUSH', '{t}src', `job${round}`], ['LPOP', '{t}src'], ['LPOP', '{t}dst']]));
          replies.push(...raced.map(text), ...(await waiting).map(text));
        }
        return replies;
      } finally {
        waiter.close();
        other.close();
      }
    });
    expect(seen.slice(0, 4)).toEqual([':1\r\n', '$-1\r\n', '$4\r\njob0\r\n', '$4\r\njob0\r\n']);
  });

  it('serves a chain: a BLMOVE wakes and its push wakes a client blocked on the destination', async () => {
    await sameScenario(servers, async (port) => {
      const [mover, popper, pusher] = await Promise.all([open(port), open(port), open(port)]);
      try {
        await pusher.run(commands([['FLUSHALL']]));
        const moved = mover.run(commands([['BLMOVE', '{t}a', '{t}b', 'LEFT', 'RIGHT', '0']]));
        await blockedClients(port, 1);
        const popped = popper.run(commands([['BLPOP', '{t}b', '0']]));
        await blockedClients(port, 2);
        const pushed = await pusher.run(commands([['RPUSH', '{t}a', 'v'], ['EXISTS', '{t}a', '{t}b']]));
        return [...(await moved), ...pushed, ...(await popped)].map(text);
      } finally {
        for (const connection of [mover, popper, pusher]) connection.close();
      }
    });
  });

  it('serves blocked clients only once a whole EXEC has run', async () => {
    const replies = await sameScenario(servers, async (port) => {
      const [waiter, other] = await Promise.all([open(port), open(port)]);
      try {
        await other.run(commands([['FLUSHALL']]));
        const waiting = waiter.run(commands([['BLPOP', '{t}e', '0']]));
        await blockedClients(port, 1);
        const exec = await other.run(commands([['MULTI'], ['RPUSH', '{t}e', 'a', 'b'], ['LPOP', '{t}e'], ['EXEC']]));
        return [...exec, ...(await waiting)].map(text);
      } finally {
        waiter.close();
        other.close();
      }
    });
    expect(replies.slice(3)).toEqual(['*2\r\n:2\r\n$1\r\na\r\n', '*2\r\n$4\r\n{t}e\r\n$1\r\nb\r\n']);
  });

  it('wakes a client whose key SWAPDB brings into its database', async () => {
    await sameScenario(servers, async (port) => {
      const [waiter, other] = await Promise.all([open(port), open(port)]);
      try {
        await other.run(commands([['FLUSHALL']]));
        const waiting = waiter.run(commands([['BLPOP', '{t}swap', '0'], ['DBSIZE']]));
        await blockedClients(port, 1);
        const swapped = await other.run(commands([['SELECT', '1'], ['RPUSH', '{t}swap', 'there'], ['SWAPDB', '0', '1'], ['DBSIZE']]));
        return [...swapped, ...(await waiting)].map(text);
      } finally {
        waiter.close();
        other.close();
      }
    });
  });

  it('CLIENT UNBLOCK answers the blocked client as timed out or with an error; CLIENT LIST shows flag b', async () => {
    const replies = await sameScenario(servers, async (port) => {
      const [blocked, admin] = await Promise.all([open(port), open(port)]);
      try {
        const [idReply] = await blocked.run(commands([['CLIENT', 'ID']]));
        const id = text(idReply).slice(1, -2);
        const results: string[] = [];
        for (const [command, reason] of [
          [['BLPOP', '{t}u', '0'], 'TIMEOUT'],
          [['BLMOVE', '{t}u', '{t}v', 'LEFT', 'LEFT', '0'], 'TIMEOUT'],
          [['BZMPOP', '0', '1', '{t}u', 'MIN'], 'ERROR'],
          [['BLPOP', k1, k3, '0'], 'ERROR'],
        ] as const) {
          const waiting = blocked.run(commands([[...command]]));
          await blockedClients(port, 1);
          const [list] = await admin.run(commands([['CLIENT', 'LIST', 'ID', id]]));
          results.push(/ flags=b /.test(text(list)) ? 'flag b' : text(list));
          results.push(...(await admin.run(commands([['CLIENT', 'UNBLOCK', id, reason]]))).map(text));
          results.push(...(await waiting).map(text));
        }
        results.push(
          ...(await admin.run(commands([['CLIENT', 'UNBLOCK', id], ['CLIENT', 'UNBLOCK', id, 'FOO'], ['CLIENT', 'UNBLOCK', 'abc'], ['CLIENT', 'UNBLOCK']]))).map(text),
        );
        return results;
      } finally {
        blocked.close();
        admin.close();
      }
    });
    expect(replies.slice(0, 3)).toEqual(['flag b', ':1\r\n', '*-1\r\n']);
    expect(replies[11]).toBe('-UNBLOCKED client unblocked via CLIENT UNBLOCK\r\n');
  });

  it('wakes a client blocked on keys of several shards, and moves between shards when woken', async () => {
    const port = servers.sabre.port;
    const [waiter, pusher] = await Promise.all([open(port), open(port)]);
    try {
      await pusher.run(commands([['FLUSHALL']]));
      const popped = waiter.run(commands([['BLPOP', k1, k2, k3, '0']]));
      await blockedClients(port, 1);
      expect((await pusher.run(commands([['RPUSH', k3, 'far']]))).map(text)).toEqual([':1\r\n']);
      expect((await popped).map(text)).toEqual([`*2\r\n$${k3.length}\r\n${k3}\r\n$3\r\nfar\r\n`]);

      const moved = waiter.run(commands([['BLMOVE', k1, k2, 'LEFT', 'RIGHT', '0'], ['LRANGE', k2, '0', '-1'], ['EXISTS', k1]]));
      await blockedClients(port, 1);
      await pusher.run(commands([['RPUSH', k1, 'job']]));
      expect((await moved).map(text)).toEqual(['$3\r\njob\r\n', '*1\r\n$3\r\njob\r\n', ':0\r\n']);

      // Someone else takes the element first: the waiter waits on, then gets the next one.
      const late = waiter.run(commands([['BLPOP', k1, k3, '0']]));
      await blockedClients(port, 1);
      await pusher.run(commands([['MULTI'], ['RPUSH', k1, 'first'], ['LPOP', k1], ['EXEC']]));
      await blockedClients(port, 1);
      await pusher.run(commands([['RPUSH', k3, 'second']]));
      expect((await late).map(text)).toEqual([`*2\r\n$${k3.length}\r\n${k3}\r\n$6\r\nsecond\r\n`]);
      await blockedClients(port, 0);
    } finally {
      waiter.close();
      pusher.close();
    }
  });

  it('holds a blocked client’s later commands until it is served', async () => {
    const port = servers.sabre.port;
    const [waiter, pusher] = await Promise.all([open(port), open(port)]);
    try {
      await pusher.run(commands([['FLUSHALL']]));
      const replies = waiter.run(commands([['BLPOP', '{t}p', '0'], ['RPUSH', '{t}p', 'mine'], ['LRANGE', '{t}p', '0', '-1']]));
      await blockedClients(port, 1);
      await pusher.run(commands([['RPUSH', '{t}p', 'theirs']]));
      expect((await replies).map(text)).toEqual(['*2\r\n$4\r\n{t}p\r\n$6\r\ntheirs\r\n', ':1\r\n', '*1\r\n$4\r\nmine\r\n']);
    } finally {
      waiter.close();
      pusher.close();
    }
  });

  it('forgets a blocked client that disconnects', async () => {
    const port = servers.sabre.port;
    const [waiter, spreadWaiter, pusher] = await Promise.all([open(port), open(port), open(port)]);
    try {
      await pusher.run(commands([['FLUSHALL']]));
      void waiter.run(commands([['BLPOP', '{t}gone', '0']]));
      void spreadWaiter.run(commands([['BLPOP', k1, k2, '0']]));
      await blockedClients(port, 2);
      waiter.close();
      spreadWaiter.close();
      await blockedClients(port, 0);
      const replies = await pusher.run(commands([['RPUSH', '{t}gone', 'kept'], ['RPUSH', k2, 'kept'], ['LLEN', '{t}gone'], ['LLEN', k2]]));
      expect(replies.map(text)).toEqual([':1\r\n', ':1\r\n', ':1\r\n', ':1\r\n']);
    } finally {
      pusher.close();
    }
  });
});
