/**
 * The AOF when things go wrong: a process killed (SIGKILL) in the middle of a write load keeps every
 * acknowledged write under appendfsync always, and all but about the last second's under everysec; a
 * torn last command is cut off or refused as aof-load-truncated says; a damaged file is refused with
 * its offset named.
 */
import { appendFileSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RedisConnection, b } from '../helpers/differential.js';
import { serversPerTest, type RunningSabre } from '../helpers/sabre-server.js';

const INCR = join('appendonlydir', 'appendonly.aof.1.incr.aof');
const CLIENTS = 8;
const LOAD_MS = 600;

const { start: startSabre, tempDir } = serversPerTest();

interface Acknowledged {
  key: string;
  at: number;
}

/**
 * One client writing `c<id>:<n>` keys one after another (each sent once the previous was answered) until
 * its socket dies; every +OK is recorded with the time it arrived.
 */
function writer(port: number, id: number, acknowledged: Acknowledged[]): void {
  const socket = connect(port, '127.0.0.1');
  let sent = 0;
  const send = () => {
    const key = `c${id}:${sent++}`;
    socket.write(`*3\r\n$3\r\nSET\r\n$${key.length}\r\n${key}\r\n$1\r\n1\r\n`);
  };
  let pending = '';
  socket.on('connect', send);
  socket.on('data', (chunk: Buffer) => {
    pending += chunk.toString('latin1');
    while (pending.startsWith('+OK\r\n')) {
      pending = pending.slice(5);
      acknowledged.push({ key: `c${id}:${sent - 1}`, at: Date.now() });
      send();
    }
  });
  // The server is killed under it: the reset is expected.
  socket.on('error', () => undefined);
}

/** Which of `keys` exist on the server. */
async function existing(port: number, keys: readonly string[]): Promise<Set<string>> {
  const connection = await RedisConnection.open(port);
  try {
    const replies = await connection.run(keys.map((key) => [b('EXISTS'), b(key)]));
    return new Set(keys.filter((_, i) => replies[i].toString('latin1') === ':1\r\n'));
  } finally {
    connection.close();
  }
}

async function killedUnderLoad(fsync: string): Promise<{ lost: Acknowledged[]; acknowledged: number; killedAt: number }> {
  const dir = tempDir();
  const args = ['--dir', dir, '--appendonly', 'yes', '--appendfsync', fsync, '--shards', '2'];
  const sabre = await startSabre(args);
  const acknowledged: Acknowledged[] = [];
  for (let id = 0; id < CLIENTS; id++) writer(sabre.port, id, acknowledged);
  await new Promise((resolve) => setTimeout(resolve, LOAD_MS));
  await sabre.kill();
  const killedAt = Date.now();
  const again = await startSabre(args);
  try {
    const present = await existing(
      again.port,
      acknowledged.map(({ key }) => key),
    );
    return { lost: acknowledged.filter(({ key }) => !present.has(key)), acknowledged: acknowledged.length, killedAt };
  } finally {
    expect(await again.stop()).toBe(0);
  }
}

/** Starts sabre on an AOF directory that holds a few writes and whose incremental file `damage` then changes. */
async function damagedAof(damage: (path: string) => void, extra: string[] = []): Promise<{ dir: string; start: () => Promise<RunningSabre> }> {
  const dir = tempDir();
  const args = ['--dir', dir, '--appendonly', 'yes', '--shards', '2'];
  const sabre = await startSabre(args);
  const connection = await RedisConnection.open(sabre.port);
  await connection.run([
    [b('SET'), b('first'), b('1')],
    [b('RPUSH'), b('list'), b('a'), b('b')],
    [b('SET'), b('second'), b('2')],
  ]);
  connection.close();
  expect(await sabre.stop()).toBe(0);
  damage(join(dir, INCR));
  return { dir, start: () => startSabre([...args, ...extra]) };
}

describe('the AOF after a crash', () => {
  it('keeps every acknowledged write under appendfsync always', async () => {
    const { lost, acknowledged } = await killedUnderLoad('always');
    expect(acknowledged).toBeGreaterThan(100);
    expect(lost).toEqual([]);
  });

  it('loses at most about two seconds of writes under appendfsync everysec', async () => {
    const { lost, acknowledged, killedAt } = await killedUnderLoad('everysec');
    expect(acknowledged).toBeGreaterThan(100);
    for (const write of lost) expect(killedAt - write.at).toBeLessThan(2000);
  });
});

describe('an AOF that cannot be written', () => {
  it('refuses write commands with -MISCONF while the disk is full, and keeps serving reads', async () => {
    const dir = tempDir();
    const args = ['--dir', dir, '--appendonly', 'yes', '--shards', '2'];
    const first = await startSabre(args);
    expect(await first.stop()).toBe(0);
    // The next incremental file the server opens is /dev/full, where every write fails with ENOSPC.
    const directory = join(dir, 'appendonlydir');
    writeFileSync(join(directory, 'appendonly.aof.manifest'), 'file appendonly.aof.1.base.rdb seq 1 type b\n');
    rmSync(join(directory, 'appendonly.aof.1.incr.aof'));
    symlinkSync('/dev/full', join(directory, 'appendonly.aof.1.incr.aof'));
    const sabre = await startSabre(args);
    const connection = await RedisConnection.open(sabre.port);
    try {
      const [set] = await connection.run([[b('SET'), b('a'), b('1')]]);
      expect(set.toString()).toBe('+OK\r\n');
      const replies = await connection.run([[b('SET'), b('b'), b('2')], [b('PING')], [b('GET'), b('a')], [b('INFO'), b('persistence')]]);
      const misconf = '-MISCONF Errors writing to the AOF file: No space left on device\r\n';
      expect(replies.slice(0, 3).map((reply) => reply.toString())).toEqual([misconf, misconf, '$1\r\n1\r\n']);
      expect(replies[3].toString()).toContain('aof_last_write_status:err');
    } finally {
      connection.close();
      await sabre.kill();
    }
  });
});

describe('a damaged AOF at startup', () => {
  const TORN = '*3\r\n$3\r\nSET\r\n$4\r\ntorn\r\n$5\r\nval';

  it('cuts a torn last command off and loads the rest with aof-load-truncated yes', async () => {
    let whole = 0;
    const { dir, start } = await damagedAof((path) => {
      whole = statSync(path).size;
      appendFileSync(path, TORN);
    });
    const sabre = await start();
    try {
      expect(sabre.log()).toContain(`Truncating the AOF at offset ${whole}`);
      expect(statSync(join(dir, INCR)).size).toBe(whole);
      expect([...(await existing(sabre.port, ['first', 'list', 'second', 'torn']))].sort()).toEqual(['first', 'list', 'second']);
    } finally {
      expect(await sabre.stop()).toBe(0);
    }
  });

  it('cuts off a transaction the file ends inside of', async () => {
    let whole = 0;
    const { start } = await damagedAof((path) => {
      whole = statSync(path).size;
      appendFileSync(path, '*1\r\n$5\r\nMULTI\r\n*3\r\n$3\r\nSET\r\n$4\r\nhalf\r\n$1\r\n1\r\n');
    });
    const sabre = await start();
    try {
      expect(sabre.log()).toContain(`Truncating the AOF at offset ${whole}`);
      expect([...(await existing(sabre.port, ['first', 'half']))]).toEqual(['first']);
    } finally {
      expect(await sabre.stop()).toBe(0);
    }
  });

  it('refuses a torn last command with aof-load-truncated no, naming the offset', async () => {
    let whole = 0;
    const { start } = await damagedAof(
      (path) => {
        whole = statSync(path).size;
        appendFileSync(path, TORN);
      },
      ['--aof-load-truncated', 'no'],
    );
    await expect(start()).rejects.toThrow(new RegExp(`Unexpected end of file reading the append only file appendonly.aof.1.incr.aof at offset ${whole}`));
  });

  it('refuses bytes that are no command, naming the offset', async () => {
    let offset = 0;
    const { start } = await damagedAof((path) => {
      const bytes = readFileSync(path);
      // The length line of the second command's first argument: a bit flip turns '$' into '%'.
      offset = bytes.indexOf('$5\r\nRPUSH');
      bytes[offset] ^= 0x01;
      writeFileSync(path, bytes);
    });
    await expect(start()).rejects.toThrow(new RegExp(`Bad file format reading the append only file appendonly.aof.1.incr.aof .*offset ${offset}`, 'i'));
  });
});
