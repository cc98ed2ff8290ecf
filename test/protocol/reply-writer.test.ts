/**
 * Unit tests of the reply writer (exact bytes of every type in RESP2 and RESP3, number and string
 * encodings, batching) and of the reply reader that the differential suites rely on. The expected bytes
 * are what redis-server 7.0.15 sends for the same values; differential.test.ts re-checks the RESP3
 * fallbacks and the double format against it.
 */
import { describe, expect, it } from 'vitest';
import { ReplyReader, type RespValue } from '../../src/protocol/reply-reader.js';
import { ReplyWriter, formatDouble, type ProtocolVersion } from '../../src/protocol/reply-writer.js';
import { Random } from '../helpers/random.js';

function written(protocol: ProtocolVersion, write: (writer: ReplyWriter) => void): string {
  const writer = new ReplyWriter(16);
  writer.protocol = protocol;
  write(writer);
  return writer.take().toString('latin1');
}

describe('every type, RESP2 and RESP3', () => {
  it.each<[string, (writer: ReplyWriter) => void, string, string]>([
    ['ok', (w) => w.ok(), '+OK\r\n', '+OK\r\n'],
    ['pong', (w) => w.pong(), '+PONG\r\n', '+PONG\r\n'],
    ['queued', (w) => w.queued(), '+QUEUED\r\n', '+QUEUED\r\n'],
    ['simple', (w) => w.simple('Background saving started'), '+Background saving started\r\n', '+Background saving started\r\n'],
    ['error', (w) => w.error('ERR syntax error'), '-ERR syntax error\r\n', '-ERR syntax error\r\n'],
    ['integer 0', (w) => w.integer(0), ':0\r\n', ':0\r\n'],
    ['integer 1', (w) => w.integer(1), ':1\r\n', ':1\r\n'],
    ['integer -1', (w) => w.integer(-1), ':-1\r\n', ':-1\r\n'],
    ['bulk', (w) => w.bulk('value'), '$5\r\nvalue\r\n', '$5\r\nvalue\r\n'],
    ['empty bulk', (w) => w.bulk(''), '$0\r\n\r\n', '$0\r\n\r\n'],
    ['binary bulk', (w) => w.bulk(Buffer.from('a\r\n\0\xff', 'latin1')), '$5\r\na\r\n\0\xff\r\n', '$5\r\na\r\n\0\xff\r\n'],
    ['null bulk', (w) => w.nullBulk(), '$-1\r\n', '_\r\n'],
    ['null array', (w) => w.nullArray(), '*-1\r\n', '_\r\n'],
    ['empty array', (w) => w.arrayHeader(0), '*0\r\n', '*0\r\n'],
    [
      'array of bulks',
      (w) => w.bulkArray(['a', null, Buffer.from('b')]),
      '*3\r\n$1\r\na\r\n$-1\r\n$1\r\nb\r\n',
      '*3\r\n$1\r\na\r\n_\r\n$1\r\nb\r\n',
    ],
    [
      'map',
      (w) => {
        w.mapHeader(1);
        w.bulk('field');
        w.bulk('1');
      },
      '*2\r\n$5\r\nfield\r\n$1\r\n1\r\n',
      '%1\r\n$5\r\nfield\r\n$1\r\n1\r\n',
    ],
    [
      'set',
      (w) => {
        w.setHeader(1);
        w.bulk('x');
      },
      '*1\r\n$1\r\nx\r\n',
      '~1\r\n$1\r\nx\r\n',
    ],
    [
      'push',
      (w) => {
        w.pushHeader(3);
        w.bulk('message');
        w.bulk('ch');
        w.bulk('hi');
      },
      '*3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$2\r\nhi\r\n',
      '>3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$2\r\nhi\r\n',
    ],
    ['double', (w) => w.double(1.1), '$18\r\n1.1000000000000001\r\n', ',1.1000000000000001\r\n'],
    ['double inf', (w) => w.double(-Infinity), '$4\r\n-inf\r\n', ',-inf\r\n'],
    ['boolean true', (w) => w.boolean(true), ':1\r\n', '#t\r\n'],
    ['boolean false', (w) => w.boolean(false), ':0\r\n', '#f\r\n'],
    ['big number', (w) => w.bigNumber(123456789012345678901234567890n), '$30\r\n123456789012345678901234567890\r\n', '(123456789012345678901234567890\r\n'],
    ['verbatim', (w) => w.verbatim('Redis ver. 7.0.15\n'), '$18\r\nRedis ver. 7.0.15\n\r\n', '=22\r\ntxt:Redis ver. 7.0.15\n\r\n'],
    ['verbatim markdown', (w) => w.verbatim(Buffer.from('# x'), 'mkd'), '$3\r\n# x\r\n', '=7\r\nmkd:# x\r\n'],
    ['raw', (w) => w.raw(Buffer.from(':42\r\n')), ':42\r\n', ':42\r\n'],
  ])('%s', (_name, write, resp2, resp3) => {
    expect(written(2, write)).toBe(resp2);
    expect(written(3, write)).toBe(resp3);
  });
});

describe('numbers', () => {
  it('writes integers and lengths digit for digit', () => {
    const values = [2, 9, 10, 11, 99, 100, 101, 999, 1000, 65535, 1234567, 99999999, 100000000, 123456789012, 2 ** 31, 2 ** 32 + 1];
    for (const value of [...values, ...values.map((v) => -v), Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER]) {
      expect(written(2, (w) => w.integer(value))).toBe(`:${value}\r\n`);
    }
    const random = new Random(3);
    for (let i = 0; i < 2000; i++) {
      const value = Math.floor(random.next() * 10 ** random.int(0, 15)) * (random.next() < 0.5 ? -1 : 1);
      expect(written(2, (w) => w.integer(value))).toBe(`:${value === 0 ? 0 : value}\r\n`);
      expect(written(2, (w) => w.arrayHeader(Math.abs(value)))).toBe(`*${Math.abs(value)}\r\n`);
    }
  });

  it('writes 64-bit integers given as bigint, and refuses non-integers', () => {
    expect(written(2, (w) => w.integer(9223372036854775807n))).toBe(':9223372036854775807\r\n');
    expect(written(2, (w) => w.integer(-9223372036854775808n))).toBe(':-9223372036854775808\r\n');
    expect(written(2, (w) => w.integer(0n))).toBe(':0\r\n');
    expect(written(2, (w) => w.integer(2 ** 60))).toBe(':1152921504606846976\r\n');
    expect(() => written(2, (w) => w.integer(1.5))).toThrow(TypeError);
  });

  it.each([
    [0, '0'],
    [-0, '-0'],
    [1, '1'],
    [-3, '-3'],
    [1.5, '1.5'],
    [1.1, '1.1000000000000001'],
    [0.1, '0.10000000000000001'],
    [1 / 3, '0.33333333333333331'],
    [100, '100'],
    [0.0001, '0.0001'],
    [0.00001, '1.0000000000000001e-05'],
    [1e16, '10000000000000000'],
    [1e17, '1e+17'],
    [1e20, '1e+20'],
    [123456789012345678, '1.2345678901234568e+17'],
    [1.7976931348623157e308, '1.7976931348623157e+308'],
    [5e-324, '4.9406564584124654e-324'],
    [-2.5e-7, '-2.4999999999999999e-07'],
    // Exact ties at the 18th digit round to even in printf (JavaScript's toExponential rounds them up).
    [1000000000000000.25, '1000000000000000.2'],
    [-1000000000000000.75, '-1000000000000000.8'],
    [2251799813685248.5, '2251799813685248.5'],
    [4503599627370495.5, '4503599627370495.5'],
    [Infinity, 'inf'],
    [-Infinity, '-inf'],
    [NaN, 'nan'],
  ])('formats %d as %s (printf %%.17g)', (value, text) => {
    expect(formatDouble(value)).toBe(text);
  });
});

describe('strings', () => {
  it('encodes short and long strings, ASCII and not, as UTF-8 with their byte length', () => {
    for (const text of ['a', 'key:1', 'x'.repeat(32), 'x'.repeat(33), 'é', `${'a'.repeat(31)}é`, '日本語', `${'z'.repeat(100)}→`, '😀']) {
      const bytes = Buffer.from(text, 'utf8');
      expect(written(2, (w) => w.bulk(text))).toBe(`$${bytes.length}\r\n${bytes.toString('latin1')}\r\n`);
    }
  });

  it('keeps error replies on one line, and writes error bytes as given', () => {
    expect(written(2, (w) => w.error('ERR a\r\nb'))).toBe('-ERR a  b\r\n');
    expect(written(2, (w) => w.error(Buffer.from("ERR got '\xff'", 'latin1')))).toBe("-ERR got '\xff'\r\n");
  });
});

describe('batching', () => {
  it('grows past its initial capacity and hands back exactly what was written', () => {
    const writer = new ReplyWriter(16);
    const expected: string[] = [];
    for (let i = 0; i < 1000; i++) {
      writer.bulk(`value:${i}`);
      expected.push(`$${`value:${i}`.length}\r\nvalue:${i}\r\n`);
    }
    expect(writer.byteLength).toBe(expected.join('').length);
    expect(writer.take().toString()).toBe(expected.join(''));
    expect(writer.byteLength).toBe(0);
    writer.ok();
    expect(writer.take().toString()).toBe('+OK\r\n');
  });

  it('copies small batches out and hands large ones over, never sharing bytes with later writes', () => {
    const writer = new ReplyWriter();
    writer.bulk('first');
    const small = writer.take();
    writer.bulk('second');
    expect(small.toString()).toBe('$5\r\nfirst\r\n');
    expect(writer.take().toString()).toBe('$6\r\nsecond\r\n');

    const big = Buffer.alloc(200_000, 0x62);
    writer.bulk(big);
    const large = writer.take();
    writer.bulk('after');
    expect(large.length).toBe('$200000\r\n'.length + big.length + 2);
    expect(large.subarray(0, 9).toString()).toBe('$200000\r\n');
    expect(large.subarray(9, 9 + big.length).equals(big)).toBe(true);
    expect(large.subarray(9 + big.length).toString()).toBe('\r\n');
    expect(writer.take().toString()).toBe('$5\r\nafter\r\n');
  });
});

describe('reply reader', () => {
  const readAll = (bytes: Buffer): RespValue[] => {
    const reader = new ReplyReader();
    reader.feed(bytes);
    return reader.all();
  };

  it('reads back everything the writer writes, in both protocols', () => {
    for (const protocol of [2, 3] as const) {
      const writer = new ReplyWriter();
      writer.protocol = protocol;
      writer.ok();
      writer.error('WRONGTYPE x');
      writer.integer(-42);
      writer.bulk('v');
      writer.nullBulk();
      writer.nullArray();
      writer.mapHeader(1);
      writer.bulk('k');
      writer.double(2.5);
      writer.setHeader(2);
      writer.boolean(true);
      writer.bigNumber(10n ** 30n);
      writer.verbatim('hi');
      const replies = readAll(writer.take());
      expect(replies).toHaveLength(9);
      expect(replies[0]).toEqual({ type: 'simple', value: 'OK' });
      expect(replies[1]).toEqual({ type: 'error', value: 'WRONGTYPE x' });
      expect(replies[2]).toEqual({ type: 'integer', value: -42n });
      expect(replies[3]).toEqual({ type: 'bulk', value: Buffer.from('v') });
      if (protocol === 2) {
        expect(replies.slice(4)).toEqual([
          { type: 'bulk', value: null },
          { type: 'array', value: null },
          { type: 'array', value: [{ type: 'bulk', value: Buffer.from('k') }, { type: 'bulk', value: Buffer.from('2.5') }] },
          { type: 'array', value: [{ type: 'integer', value: 1n }, { type: 'bulk', value: Buffer.from(String(10n ** 30n)) }] },
          { type: 'bulk', value: Buffer.from('hi') },
        ]);
      } else {
        expect(replies.slice(4)).toEqual([
          { type: 'null' },
          { type: 'null' },
          { type: 'map', value: [[{ type: 'bulk', value: Buffer.from('k') }, { type: 'double', value: 2.5 }]] },
          { type: 'set', value: [{ type: 'boolean', value: true }, { type: 'bignumber', value: 10n ** 30n }] },
          { type: 'verbatim', format: 'txt', value: Buffer.from('hi') },
        ]);
      }
    }
  });

  it('waits for a reply split anywhere', () => {
    const bytes = Buffer.from('*2\r\n$3\r\nfoo\r\n%1\r\n+a\r\n,inf\r\n');
    for (let split = 1; split < bytes.length; split++) {
      const reader = new ReplyReader();
      reader.feed(bytes.subarray(0, split));
      const first = reader.all();
      reader.feed(bytes.subarray(split));
      expect([...first, ...reader.all()], `split at ${split}`).toEqual(readAll(bytes));
      expect(reader.pendingBytes).toBe(0);
    }
  });

  it('throws on malformed replies', () => {
    expect(() => readAll(Buffer.from('?x\r\n'))).toThrow(/unknown RESP type/);
    expect(() => readAll(Buffer.from('$1\r\nab\r\n'))).toThrow(/CRLF/);
    expect(() => readAll(Buffer.from('*x\r\n'))).toThrow(/not a number/);
  });
});
