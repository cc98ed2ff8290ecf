/**
 * DUMP and RESTORE against a real redis-server 7: every fixture type and encoding dumped by sabre
 * restores on Redis and the other way round, with the same value and the encoding Redis gives it; the
 * payload is Redis's byte for byte where its encoding is deterministic; RESTORE's options and errors
 * answer as Redis's do.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Crc64 } from '../../src/persistence/crc64.js';
import { RedisConnection, b, sameReply } from '../helpers/differential.js';
import { InProcessSabre } from '../helpers/in-process-sabre.js';
import { startRedis, type RunningRedis } from '../helpers/redis-server.js';
import { keysOnEveryShard, parseReply, SHARDS } from '../helpers/keyspace.js';
import { startSabre } from '../helpers/sabre-server.js';
import { FIXTURES, readout, type Runner } from './fixtures.js';

function bulkValue(reply: Buffer): Buffer {
  const value = parseReply(reply);
  if (value.type !== 'bulk' || value.value === null) throw new Error(`not a bulk string: ${reply.toString('latin1')}`);
  return value.value;
}

/** A payload with its value part replaced and the footer recomputed, so that only the body is wrong. */
function repaired(body: Buffer): Buffer {
  const versioned = Buffer.concat([body, Buffer.from([10, 0])]);
  return Buffer.concat([versioned, new Crc64().update(versioned).littleEndian()]);
}

describe('DUMP / RESTORE against a real redis-server 7', () => {
  let redis: RunningRedis | undefined;
  let connection: RedisConnection | undefined;
  let sabre: InProcessSabre;
  let onSabre: Runner;
  let onRedis: Runner;
  beforeAll(async () => {
    redis = await startRedis();
    if (redis !== undefined) connection = await RedisConnection.open(redis.port);
    sabre = new InProcessSabre();
    onSabre = async (argv) => sabre.run(argv);
    onRedis = async (argv) => (await connection!.run([argv]))[0];
  });
  afterAll(async () => {
    connection?.close();
    await redis?.stop();
  });

  const build = async (run: Runner, commands: Buffer[][]): Promise<void> => {
    for (const command of commands) expect(parseReply(await run(command)).type).not.toBe('error');
  };

  for (const fixture of FIXTURES) {
    it(`${fixture.name}: sabre's DUMP restores on Redis and Redis's on sabre`, async (context) => {
      if (connection === undefined) return context.skip();
      const key = `k:${fixture.name}`;
      await build(onSabre, fixture.build(key));
      await build(onRedis, fixture.build(key));
      const ours = bulkValue(await onSabre([b('DUMP'), b(key)]));
      const theirs = bulkValue(await onRedis([b('DUMP'), b(key)]));
      if (fixture.sameBytes) expect(ours.toString('hex')).toBe(theirs.toString('hex'));
      // Each side restores the other's payload under a new name; the value reads back as the original.
      expect((await onRedis([b('RESTORE'), b(`${key}:from-sabre`), b('0'), ours])).toString()).toBe('+OK\r\n');
      expect((await onSabre([b('RESTORE'), b(`${key}:from-redis`), b('0'), theirs])).toString()).toBe('+OK\r\n');
      const original = await readout(onRedis, key);
      expect(await readout(onSabre, key)).toBe(original);
      expect(await readout(onRedis, `${key}:from-sabre`)).toBe(original);
      expect(await readout(onSabre, `${key}:from-redis`)).toBe(original);
      if (fixture.name.startsWith('HLL')) {
        const count = (await onRedis([b('PFCOUNT'), b(`${key}:from-sabre`)])).toString();
        expect((await onSabre([b('PFCOUNT'), b(`${key}:from-redis`)])).toString()).toBe(count);
      }
    });
  }

  it('answers RESTORE options and bad input as Redis does', async (context) => {
    if (connection === undefined) return context.skip();
    await build(onRedis, [[b('SET'), b('src'), b('value')], [b('HSET'), b('hsrc'), b('f'), b('v')]]);
    const payload = bulkValue(await onRedis([b('DUMP'), b('src')]));
    const hashPayload = bulkValue(await onRedis([b('DUMP'), b('hsrc')]));
    const flipped = Buffer.from(payload);
    flipped[2] ^= 1;
    const newerVersion = Buffer.from(payload);
    newerVersion[payload.length - 10] = 11;
    const now = Date.now();
    const commands: (string | Buffer)[][] = [
      ['DUMP', 'missing'],
      ['RESTORE', 'r1', '0', payload],
      ['GET', 'r1'],
      ['RESTORE', 'r1', '0', payload],
      ['RESTORE', 'r1', '0', payload, 'REPLACE'],
      ['RESTORE', 'r2', '-1', payload],
      ['RESTORE', 'r2', 'abc', payload],
      ['RESTORE', 'r2', '0', flipped],
      ['RESTORE', 'r2', '0', newerVersion],
      ['RESTORE', 'r2', '0', Buffer.from('short')],
      ['RESTORE', 'r2', '0', repaired(Buffer.from([0, 5, 0x61]))],
      ['RESTORE', 'r2', '0', repaired(Buffer.from([0, 1, 0x61, 0x62]))],
      ['RESTORE', 'r2', '0', repaired(Buffer.from([4, 0]))],
      ['RESTORE', 'r2', '0', repaired(Buffer.from([99, 1, 0x61]))],
      ['RESTORE', 'r2', '0', repaired(Buffer.from([4, 2, 1, 0x61, 1, 0x62, 1, 0x61, 1, 0x63]))],
      ['RESTORE', 'r2', '0', payload, 'BOGUS'],
      ['RESTORE', 'r2', '0', payload, 'IDLETIME'],
      ['RESTORE', 'r2', '0', payload, 'IDLETIME', '-1'],
      ['RESTORE', 'r2', '0', payload, 'IDLETIME', 'x'],
      ['RESTORE', 'r2', '0', payload, 'FREQ', '256'],
      ['RESTORE', 'r2', '0', payload, 'FREQ', '-1'],
      ['RESTORE', 'r2', '0', payload, 'FREQ', '5', 'IDLETIME', '5'],
      ['RESTORE', 'r2', '0', payload, 'IDLETIME', '5', 'FREQ', '5'],
      ['EXISTS', 'r2'],
      ['RESTORE', 'r3', '0', payload, 'IDLETIME', '1000'],
      ['OBJECT', 'IDLETIME', 'r3'],
      ['RESTORE', 'r4', '0', hashPayload, 'FREQ', '7', 'replace', 'absttl'],
      ['HGETALL', 'r4'],
      ['RESTORE', 'r5', '100000', payload],
      ['PTTL', 'r5'],
      ['RESTORE', 'r6', String(now + 200000), payload, 'ABSTTL'],
      ['PEXPIRETIME', 'r6'],
      ['RESTORE', 'r6', '1', payload, 'ABSTTL', 'REPLACE'],
      ['EXISTS', 'r6'],
      ['RESTORE', 'r7', '1', payload, 'ABSTTL'],
      ['EXISTS', 'r7'],
      ['RESTORE', 'r1', '0', hashPayload, 'REPLACE'],
      ['TYPE', 'r1'],
      ['RESTORE', 'r1'],
    ];
    for (const command of commands) {
      const argv = command.map((arg) => (typeof arg === 'string' ? b(arg) : arg));
      const ours = await onSabre(argv);
      const theirs = await onRedis(argv);
      const name = String(command[0]).toLowerCase();
      const shown = JSON.stringify([command.map((arg) => String(arg).slice(0, 40)), ours.toString('latin1'), theirs.toString('latin1')]);
      expect(sameReply(name, ours, theirs), shown).toBe(true);
    }
  });

  it('moves keys between the shards of a sabre server with DUMP and RESTORE', async () => {
    const server = await startSabre(['--shards', String(SHARDS)]);
    const client = await RedisConnection.open(server.port);
    try {
      const [source, ...targets] = keysOnEveryShard('dr');
      await client.run([[b('RPUSH'), b(source), b('a'), b('1'), b('b')]]);
      const [payload] = await client.run([[b('DUMP'), b(source)]]);
      const value = bulkValue(payload);
      for (const target of targets) {
        const [restored] = await client.run([[b('RESTORE'), b(target), b('5000'), value]]);
        expect(restored.toString()).toBe('+OK\r\n');
        const [items, ttl] = await client.run([[b('LRANGE'), b(target), b('0'), b('-1')], [b('PTTL'), b(target)]]);
        expect(items.toString()).toBe('*3\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n');
        expect(Number(ttl.toString().slice(1))).toBeGreaterThan(3000);
      }
      const [busy] = await client.run([[b('RESTORE'), b(targets[0]), b('0'), value]]);
      expect(busy.toString()).toBe('-BUSYKEY Target key name already exists.\r\n');
    } finally {
      client.close();
      await server.stop();
    }
  });
});
