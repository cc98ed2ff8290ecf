/**
 * The RDB codec on its own: listpack and ziplist blobs at every encoding boundary, a whole-shard
 * write/load round trip, and files refused whole (with the offset) when they are corrupt or hold what
 * sabre cannot keep.
 */
import { describe, expect, it } from 'vitest';
import { ByteWriter } from '../../src/persistence/byte-writer.js';
import { decodeListpack, encodeListpack } from '../../src/persistence/listpack.js';
import { loadRdb, readRdb } from '../../src/persistence/rdb-load.js';
import { RdbInput } from '../../src/persistence/rdb-input.js';
import { readValue } from '../../src/persistence/rdb-reader.js';
import { rdbFileBytes } from '../../src/persistence/rdb-writer.js';
import { decodeZiplist } from '../../src/persistence/ziplist.js';
import { Shard } from '../../src/shard/shard.js';
import { b } from '../helpers/differential.js';
import { FIXTURES, readout, type Runner } from './fixtures.js';

const onShard = (shard: Shard, db = 0): Runner => async (argv) => Buffer.from(shard.execute(db, 2, argv));

describe('listpack', () => {
  it('round-trips integers and strings at every encoding boundary, integers in the narrowest form', () => {
    const integers = ['0', '127', '128', '-1', '-4096', '4095', '4096', '-4097', '32767', '-32768', '32768', '8388607', '-8388608', '8388608', '2147483647', '-2147483648', '2147483648', '9223372036854775807', '-9223372036854775808'];
    const strings = ['', 'a', '9223372036854775808', '007', '-0', 'x'.repeat(63), 'x'.repeat(64), 'y'.repeat(4095), 'y'.repeat(4096), 'z'.repeat(20000)];
    const elements = [...integers, ...strings].map(b);
    const out = new ByteWriter();
    encodeListpack(out, elements);
    expect(decodeListpack(out.view()).map((e) => e.toString('latin1'))).toEqual([...integers, ...strings]);
    // 0..127 take one byte plus a one-byte backlen; 128 a 13-bit integer (2 + 1)
    encodeListpack(out, [b('5')]);
    expect(out.view().toString('hex')).toBe('0900000001000501ff');
    encodeListpack(out, [b('128')]);
    expect(out.view().toString('hex')).toBe('0a0000000100c08002ff');
  });

  it('refuses a listpack whose count or length is wrong', () => {
    const out = new ByteWriter();
    encodeListpack(out, [b('a'), b('b')]);
    const blob = Buffer.from(out.view());
    blob.writeUInt16LE(3, 4);
    expect(() => decodeListpack(blob)).toThrow(/count/);
    expect(() => decodeListpack(blob.subarray(0, blob.length - 1))).toThrow();
  });
});

describe('ziplist', () => {
  it('reads strings and every integer encoding', () => {
    const entries = Buffer.from([0x00, 0x02, 0x61, 0x62, 0x04, 0xf3, 0x02, 0xfe, 0xfb, 0x03, 0xc0, 0x39, 0x30, 0x04, 0xf0, 0x00, 0x00, 0x80]);
    const header = Buffer.alloc(10);
    header.writeUInt32LE(10 + entries.length + 1, 0);
    header.writeUInt16LE(5, 8);
    const ziplist = Buffer.concat([header, entries, Buffer.from([0xff])]);
    expect(decodeZiplist(ziplist).map((e) => e.toString())).toEqual(['ab', '2', '-5', '12345', '-8388608']);
    // an old quicklist (RDB_TYPE_LIST_QUICKLIST) is a count of ziplist nodes
    const quicklist = Buffer.concat([Buffer.from([1, ziplist.length]), ziplist]);
    expect(readValue(new RdbInput(quicklist), 14)).toEqual({ type: 1, items: ['ab', '2', '-5', '12345', '-8388608'].map(b) });
  });
});

describe('whole files', () => {
  async function filledShard(): Promise<{ shard: Shard; keys: string[] }> {
    const shard = new Shard();
    const run = onShard(shard);
    const keys: string[] = [];
    for (const fixture of FIXTURES) {
      const key = `k:${fixture.name}`;
      for (const command of fixture.build(key)) await run(command);
      keys.push(key);
    }
    await run([b('PEXPIRE'), b('k:small list'), b('100000')]);
    await onShard(shard, 9)([b('SET'), b('nine'), b('9')]);
    return { shard, keys };
  }

  it('loads what it writes, with compression on and off', async () => {
    const { shard, keys } = await filledShard();
    for (const compression of [true, false]) {
      const file = rdbFileBytes(shard.databases, { compression, checksum: true });
      const copy = new Shard();
      expect(loadRdb(file, copy).keys).toBe(keys.length + 1);
      for (const key of keys) expect(await readout(onShard(copy), key)).toBe(await readout(onShard(shard), key));
      expect((await onShard(copy, 9)([b('GET'), b('nine')])).toString()).toBe('$1\r\n9\r\n');
      const ttl = Number((await onShard(copy)([b('PTTL'), b('k:small list')])).toString().slice(1));
      expect(ttl).toBeGreaterThan(90000);
    }
    const compressed = rdbFileBytes(shard.databases, { compression: true, checksum: true });
    expect(compressed.length).toBeLessThan(rdbFileBytes(shard.databases, { compression: false, checksum: true }).length);
  });

  it('refuses a corrupt or truncated file whole, naming the offset', async () => {
    const { shard } = await filledShard();
    const file = rdbFileBytes(shard.databases, { compression: true, checksum: true });
    const flipped = Buffer.from(file);
    flipped[Math.floor(file.length / 2)] ^= 0x40;
    const attempt = (bytes: Uint8Array): string => {
      try {
        loadRdb(bytes, new Shard());
        return 'loaded';
      } catch (error) {
        return (error as Error).message;
      }
    };
    expect(attempt(flipped)).toMatch(/at offset \d+/);
    expect(attempt(file.subarray(0, file.length - 20))).toMatch(/at offset \d+/);
    expect(attempt(Buffer.concat([b('REDIS0012'), file.subarray(9)]))).toMatch(/version 0012/);
    expect(attempt(b('NOTRDB'))).toMatch(/signature/);
    // no checksum (rdbchecksum no) writes zeros, which the reader accepts as "not checked"
    expect(attempt(rdbFileBytes(shard.databases, { compression: true, checksum: false }))).toBe('loaded');
  });

  it('refuses module data and streams, and leaves out keys already expired', () => {
    const header = b('REDIS0010');
    const end = Buffer.from([0xff, 0, 0, 0, 0, 0, 0, 0, 0]);
    const moduleAux = Buffer.concat([header, Buffer.from([0xf7, 0x02]), end]);
    expect(() => readRdb(moduleAux, () => {})).toThrow(/modules/);
    const stream = Buffer.concat([header, Buffer.from([15, 1, 0x73]), end]);
    expect(() => readRdb(stream, () => {})).toThrow(/stream/);
    const expired = Buffer.concat([header, Buffer.from([0xfc]), Buffer.from('e803000000000000', 'hex'), Buffer.from([0, 1, 0x6b, 1, 0x76]), Buffer.from([0, 1, 0x6c, 1, 0x77]), end]);
    const shard = new Shard();
    const summary = loadRdb(expired, shard);
    expect(summary.expiredSkipped).toBe(1);
    expect(shard.databases[0].size).toBe(1);
  });
});
