/**
 * Unit tests of the request parser: chunking (every split point), zero-copy, inline quoting, Redis's
 * numeric rules, limits and errors. The expectations here were read off a real redis-server 7.0.15; the
 * differential suite re-checks the protocol-visible ones against it on every run.
 */
import { describe, expect, it } from 'vitest';
import {
  PROTO_INLINE_MAX_SIZE,
  RequestParser,
  parseRedisInteger,
  splitInlineArguments,
} from '../../src/protocol/request-parser.js';
import { Random } from '../helpers/random.js';
import { latin1, multibulk, parseByteByByte, parseBytes, parseChunks, type ParseOutcome } from './parse-outcome.js';

const MiB = 1024 * 1024;

/** A pipeline touching every element type, empty commands and quirks, in one stream. */
const PIPELINE = Buffer.concat([
  multibulk('SET', 'key:1', 'value'),
  multibulk('SET', 'bin', latin1('a\r\nb\0c\xff')),
  multibulk('ECHO', ''),
  latin1('*0\r\n*-1\r\n'),
  latin1('GET "quoted key" \'single\' plain\r\n'),
  latin1('\r\n   \r\n\n'),
  latin1('*1\rX$4\rXPINGxy'),
  multibulk('MSET', 'a', '1', 'b', '2', 'c', '3'),
  latin1('ECHO "\\x41\\n" foo"bar baz"\n'),
  multibulk('SET', 'big', 'x'.repeat(300)),
  multibulk('PING'),
]);

const PIPELINE_COMMANDS = [
  ['SET', 'key:1', 'value'],
  ['SET', 'bin', 'a\r\nb\0c\xff'],
  ['ECHO', ''],
  ['GET', 'quoted key', 'single', 'plain'],
  ['PING'],
  ['MSET', 'a', '1', 'b', '2', 'c', '3'],
  ['ECHO', 'A\n', 'foobar baz'],
  ['SET', 'big', 'x'.repeat(300)],
  ['PING'],
];

describe('chunking', () => {
  const whole = parseBytes(PIPELINE);

  it('parses the pipeline in one chunk', () => {
    expect(whole).toEqual({ commands: PIPELINE_COMMANDS, error: undefined, idle: true });
  });

  it('gives the same commands for every split point into two chunks, drained or queued', () => {
    for (let split = 1; split < PIPELINE.length; split++) {
      const chunks = [PIPELINE.subarray(0, split), PIPELINE.subarray(split)];
      expect(parseChunks(chunks), `split at ${split}`).toEqual(whole);
      expect(parseChunks(chunks, { feedAllFirst: true }), `split at ${split}, queued`).toEqual(whole);
    }
  });

  it('gives the same commands for every pair of split points into three chunks', () => {
    const head = PIPELINE.subarray(0, 160);
    const expected = parseBytes(head);
    for (let first = 1; first < head.length; first++) {
      for (let second = first + 1; second < head.length; second++) {
        const chunks = [head.subarray(0, first), head.subarray(first, second), head.subarray(second)];
        const outcome = parseChunks(chunks);
        if (outcome.commands.length !== expected.commands.length || outcome.idle !== expected.idle) {
          expect(outcome, `splits at ${first}, ${second}`).toEqual(expected);
        }
      }
    }
  });

  it('gives the same commands fed one byte at a time', () => {
    expect(parseByteByByte(PIPELINE)).toEqual(whole);
    expect(parseChunks([...PIPELINE].map((byte) => Buffer.of(byte)), { feedAllFirst: true })).toEqual(whole);
  });

  it('gives the same commands for random chunkings', () => {
    const random = new Random(7);
    for (let round = 0; round < 300; round++) {
      const chunks: Buffer[] = [];
      for (let at = 0; at < PIPELINE.length; ) {
        const size = random.int(1, 40);
        chunks.push(PIPELINE.subarray(at, at + size));
        at += size;
      }
      expect(parseChunks(chunks, { feedAllFirst: round % 2 === 0 })).toEqual(whole);
    }
  });

  it('waits on a frame cut anywhere, then completes it', () => {
    const frame = multibulk('SET', 'k', 'v');
    for (let cut = 1; cut < frame.length; cut++) {
      const parser = new RequestParser();
      parser.feed(frame.subarray(0, cut));
      expect(parser.next(), `cut at ${cut}`).toBeUndefined();
      expect(parser.idle).toBe(false);
      // Like Redis's qbuf, arguments already parsed no longer count as buffered.
      expect(parser.bufferedBytes).toBeLessThanOrEqual(cut);
      parser.feed(frame.subarray(cut));
      expect(parser.next()?.map(String)).toEqual(['SET', 'k', 'v']);
      expect(parser.idle).toBe(true);
      expect(parser.bufferedBytes).toBe(0);
    }
  });

  it('parses a 10,000-command pipeline in one chunk, multibulk and inline', () => {
    const count = 10_000;
    const frames: Buffer[] = [];
    for (let i = 0; i < count; i++) frames.push(i % 2 === 0 ? multibulk('SET', `key:${i}`, `v${i}`) : latin1(`GET key:${i}\r\n`));
    const { commands, error, idle } = parseBytes(Buffer.concat(frames));
    expect(error).toBeUndefined();
    expect(idle).toBe(true);
    expect(commands).toHaveLength(count);
    expect(commands[9998]).toEqual(['SET', 'key:9998', 'v9998']);
    expect(commands[9999]).toEqual(['GET', 'key:9999']);
  });

  it('reassembles a 1 MB bulk fed in 1 KiB chunks', () => {
    const value = Buffer.alloc(MiB);
    for (let i = 0; i < value.length; i++) value[i] = (i * 31) & 0xff;
    const frame = multibulk('SET', 'k', value);
    const parser = new RequestParser();
    let argv: Buffer[] | undefined;
    for (let at = 0; at < frame.length; at += 1024) {
      parser.feed(frame.subarray(at, at + 1024));
      argv ??= parser.next();
    }
    expect(argv).toHaveLength(3);
    expect(argv?.[2].equals(value)).toBe(true);
  });
});

describe('zero copy', () => {
  const aliases = (argument: Buffer, chunk: Buffer): boolean =>
    argument.buffer === chunk.buffer &&
    argument.byteOffset >= chunk.byteOffset &&
    argument.byteOffset + argument.length <= chunk.byteOffset + chunk.length;

  it('returns views of the chunk for arguments within it', () => {
    const chunk = Buffer.concat([multibulk('SET', 'key', 'value'), latin1('GET plain\r\n')]);
    const parser = new RequestParser();
    parser.feed(chunk);
    for (const argument of [...(parser.next() ?? []), ...(parser.next() ?? [])]) expect(aliases(argument, chunk)).toBe(true);
  });

  it('copies only the argument that spans two chunks', () => {
    const frame = multibulk('SET', 'key', 'a-longer-value');
    const split = frame.indexOf('longer');
    const first = Buffer.from(frame.subarray(0, split));
    const second = Buffer.from(frame.subarray(split));
    const parser = new RequestParser();
    parser.feed(first);
    parser.feed(second);
    const [command, key, value] = parser.next() ?? [];
    expect(aliases(command, first) && aliases(key, first)).toBe(true);
    expect(aliases(value, first) || aliases(value, second)).toBe(false);
    expect(value.toString()).toBe('a-longer-value');
  });

  it('keeps a view when only the CRLF after the data spans chunks', () => {
    const frame = multibulk('GET', 'key');
    const first = Buffer.from(frame.subarray(0, frame.length - 1));
    const parser = new RequestParser();
    parser.feed(first);
    parser.feed(Buffer.from(frame.subarray(frame.length - 1)));
    const argv = parser.next() ?? [];
    expect(argv.map(String)).toEqual(['GET', 'key']);
    expect(aliases(argv[1], first)).toBe(true);
  });
});

describe('Redis quirks', () => {
  it.each([
    ['a CR followed by any byte ends a header', '*1\rX$4\rYPING\r\n', [['PING']]],
    ['the two bytes after bulk data are not checked', '*1\r\n$4\r\nPINGxy*1\r\n$4\r\nECHO\r\n', [['PING'], ['ECHO']]],
    ['a short $len desyncs into inline', '*1\r\n$3\r\nPING\r\n*1\r\n$4\r\nPING\r\n', [['PIN'], ['PING']]],
    ['*0 and negative counts are empty commands', '*0\r\n*-1\r\n*-9223372036854775808\r\nPING\r\n', [['PING']]],
    ['a bulk header at top level is inline', '$3\r\nfoo\r\n', [['$3'], ['foo']]],
    ['a LF alone ends an inline line', 'PING\nPING\r\r\n', [['PING'], ['PING']]],
  ])('%s', (_name, input, commands) => {
    expect(parseBytes(latin1(input))).toEqual({ commands, error: undefined, idle: true });
  });

  it('stalls on a NUL in a header or inline line, and fails once 64 KiB pile up', () => {
    for (const input of ['PING\0\r\n', '*1\0\r\n$4\r\nPING\r\n', '*1\r\n$4\0\r\nPING\r\n']) {
      expect(parseBytes(latin1(input)), JSON.stringify(input)).toEqual({ commands: [], error: undefined, idle: false });
    }
    const parser = new RequestParser();
    parser.feed(latin1('*1\0\r\n'));
    parser.feed(Buffer.alloc(PROTO_INLINE_MAX_SIZE - 5, 0x78));
    expect(parser.next()).toBeUndefined();
    expect(parser.error).toBeUndefined();
    parser.feed(latin1('x'));
    expect(parser.next()).toBeUndefined();
    expect(parser.error?.message).toBe('ERR Protocol error: too big mbulk count string');
  });

  it('reads NUL bytes inside bulk data', () => {
    expect(parseBytes(multibulk('SET', latin1('k\0'), latin1('\0\0'))).commands).toEqual([['SET', 'k\0', '\0\0']]);
  });
});

describe('protocol errors', () => {
  it.each([
    ['*-0\r\n', 'invalid multibulk length'],
    ['*01\r\n', 'invalid multibulk length'],
    ['*+1\r\n', 'invalid multibulk length'],
    ['*\r\n', 'invalid multibulk length'],
    ['* 1\r\n', 'invalid multibulk length'],
    ['*1 \r\n', 'invalid multibulk length'],
    ['*2147483648\r\n', 'invalid multibulk length'],
    ['*-9223372036854775809\r\n', 'invalid multibulk length'],
    ['*1\r\n$-1\r\n', 'invalid bulk length'],
    ['*1\r\n$-0\r\n', 'invalid bulk length'],
    ['*1\r\n$04\r\n', 'invalid bulk length'],
    ['*1\r\n$\r\n', 'invalid bulk length'],
    ['*1\r\n$536870913\r\n', 'invalid bulk length'],
    ['*1\r\nx4\r\n', "expected '$', got 'x'"],
    ['*1\r\n\r\n', "expected '$', got ' '"],
    ['*1\r\n\n4\r\n', "expected '$', got ' '"],
    ['*1\r\n\xff4\r\n', "expected '$', got '\xff'"],
    ['ECHO "abc\r\n', 'unbalanced quotes in request'],
    ["ECHO 'abc\r\n", 'unbalanced quotes in request'],
    ['ECHO "a"b\r\n', 'unbalanced quotes in request'],
    ['ECHO "a""b"\r\n', 'unbalanced quotes in request'],
    ['ECHO "a\\"\r\n', 'unbalanced quotes in request'],
  ])('%j → %s', (input, message) => {
    const outcome = parseBytes(latin1(input));
    expect(outcome.error).toBe(`ERR Protocol error: ${message}`);
    expect(parseByteByByte(latin1(input))).toEqual(outcome);
  });

  it('returns the commands before the error, then nothing, and ignores later input', () => {
    const parser = new RequestParser();
    parser.feed(Buffer.concat([multibulk('PING'), multibulk('ECHO', 'x'), latin1('*x\r\n'), multibulk('PING')]));
    expect(parser.next()?.map(String)).toEqual(['PING']);
    expect(parser.next()?.map(String)).toEqual(['ECHO', 'x']);
    expect(parser.next()).toBeUndefined();
    expect(parser.error?.kind).toBe('invalid-multibulk-length');
    expect(parser.error?.errorReply?.toString()).toBe('ERR Protocol error: invalid multibulk length');
    parser.feed(multibulk('PING'));
    expect(parser.next()).toBeUndefined();
    expect(parser.idle).toBe(false);
  });

  it('waits for the whole header line before judging it', () => {
    // Redis checks the '$' and the digits only once the CR and the byte after it are there.
    for (const input of ['*1\r\nx', '*1\r\nx4', '*1\r\nx4\r', '*1x', '*1\r\n$4x', '*1\r\n$4\r']) {
      expect(parseBytes(latin1(input)), JSON.stringify(input)).toEqual({ commands: [], error: undefined, idle: false });
    }
  });
});

describe('numbers (string2ll)', () => {
  it.each([
    ['0', 0],
    ['1', 1],
    ['-1', -1],
    ['2147483647', 2147483647],
    ['9223372036854775807', 9223372036854775807],
    ['-9223372036854775808', -9223372036854775808],
    ['', NaN],
    ['-', NaN],
    ['-0', NaN],
    ['01', NaN],
    ['+1', NaN],
    [' 1', NaN],
    ['1 ', NaN],
    ['1x', NaN],
    ['9223372036854775808', NaN],
    ['-9223372036854775809', NaN],
    ['10000000000000000000', NaN],
    ['000000000000000000001', NaN],
  ])('%j → %d', (text, value) => {
    const bytes = latin1(text);
    expect(parseRedisInteger(bytes, 0, bytes.length)).toBe(value);
  });
});

describe('inline commands (sdssplitargs)', () => {
  const split = (line: string): string[] | undefined =>
    splitInlineArguments(latin1(line), 0, line.length)?.map((argument) => argument.toString('latin1'));

  it.each([
    ['GET key', ['GET', 'key']],
    ['  GET   key  ', ['GET', 'key']],
    ['\tGET\tkey', ['GET', 'key']],
    ['\x0bGET a\x0bb', ['GET', 'a\x0bb']],
    ['SET "a b" \'c d\'', ['SET', 'a b', 'c d']],
    ['ECHO ""', ['ECHO', '']],
    ["ECHO ''", ['ECHO', '']],
    ['ECHO "\\x41\\x4a\\x4g\\xZZ"', ['ECHO', 'AJx4gxZZ']],
    ['ECHO "\\n\\r\\t\\b\\a\\\\\\"\\q"', ['ECHO', '\n\r\t\b\x07\\"q']],
    ["ECHO 'it\\'s' 'a\\nb'", ['ECHO', "it's", 'a\\nb']],
    ['ECHO foo"bar baz"', ['ECHO', 'foobar baz']],
    ["ECHO foo'bar baz'", ['ECHO', 'foobar baz']],
    ['ECHO "a"\x0b', ['ECHO', 'a']],
    ['ECHO "a"\x0cb', ['ECHO', 'a', 'b']],
    ['ECHO a\rb', ['ECHO', 'a', 'b']],
    ['ECHO \\x41', ['ECHO', '\\x41']],
    ['ECHO "\xff\x80"', ['ECHO', '\xff\x80']],
    ['', []],
    ['   ', []],
    ['ECHO "abc', undefined],
    ['ECHO "abc\\"', undefined],
    ["ECHO 'abc", undefined],
    ['ECHO "a"b', undefined],
    ["ECHO 'a'b", undefined],
    ['ECHO "a"\'b\'', undefined],
  ])('%j', (line, argv) => {
    expect(split(line)).toEqual(argv);
  });

  it('drops one CR before the LF, and only one', () => {
    expect(parseBytes(latin1('ECHO a\r\r\n')).commands).toEqual([['ECHO', 'a']]);
    expect(parseBytes(latin1('ECHO "a\r"\r\n')).commands).toEqual([['ECHO', 'a\r']]);
    expect(parseBytes(latin1('\r\n')).commands).toEqual([]);
  });
});

describe('limits', () => {
  const fill = (length: number): string => 'a'.repeat(length);
  const failsWith = (outcome: ParseOutcome, message: string): void => expect(outcome.error).toBe(`ERR Protocol error: ${message}`);

  it('takes an inline line of 64 KiB and refuses one more byte', () => {
    // The line is everything before the LF, a CR included: 65536 bytes pass, 65537 do not.
    const line = `ECHO ${fill(PROTO_INLINE_MAX_SIZE - 5)}`;
    const argumentLengths = (outcome: ParseOutcome): number[][] => outcome.commands.map((argv) => argv.map((a) => a.length));
    expect(argumentLengths(parseBytes(latin1(`${line}\n`)))).toEqual([[4, PROTO_INLINE_MAX_SIZE - 5]]);
    expect(argumentLengths(parseBytes(latin1(`${line.slice(1)}\r\n`)))).toEqual([[3, PROTO_INLINE_MAX_SIZE - 5]]);
    failsWith(parseBytes(latin1(`${line}\r\n`)), 'too big inline request');
    failsWith(parseBytes(latin1(`${line}a\n`)), 'too big inline request');
    // Without a newline: 64 KiB waits, one more byte fails.
    expect(parseBytes(latin1(fill(PROTO_INLINE_MAX_SIZE)))).toEqual({ commands: [], error: undefined, idle: false });
    failsWith(parseBytes(latin1(fill(PROTO_INLINE_MAX_SIZE + 1))), 'too big inline request');
  });

  it('refuses a 1 MB inline line whole or in chunks, without holding more than 64 KiB of it', () => {
    const line = latin1(`ECHO ${fill(MiB)}\r\n`);
    failsWith(parseBytes(line), 'too big inline request');
    const parser = new RequestParser();
    let fed = 0;
    for (let at = 0; at < line.length && parser.error === undefined; at += 16 * 1024) {
      parser.feed(line.subarray(at, at + 16 * 1024));
      fed += 16 * 1024;
      expect(parser.next()).toBeUndefined();
    }
    expect(parser.error?.kind).toBe('too-big-inline-request');
    expect(fed).toBeLessThanOrEqual(PROTO_INLINE_MAX_SIZE + 16 * 1024);
  });

  it('applies the 64 KiB rule to header lines', () => {
    expect(parseBytes(latin1(`*${'1'.repeat(PROTO_INLINE_MAX_SIZE - 1)}`)).error).toBeUndefined();
    failsWith(parseBytes(latin1(`*${'1'.repeat(PROTO_INLINE_MAX_SIZE)}`)), 'too big mbulk count string');
    expect(parseBytes(latin1(`*1\r\n$${'1'.repeat(PROTO_INLINE_MAX_SIZE - 1)}`)).error).toBeUndefined();
    failsWith(parseBytes(latin1(`*1\r\n$${'1'.repeat(PROTO_INLINE_MAX_SIZE)}`)), 'too big bulk count string');
    // A header that ends in time is judged as a number instead.
    failsWith(parseBytes(latin1(`*${'1'.repeat(PROTO_INLINE_MAX_SIZE - 1)}\r\n`)), 'invalid multibulk length');
  });

  it('gives the same limit answers for every chunking', () => {
    const inputs = [
      latin1(`ECHO ${fill(PROTO_INLINE_MAX_SIZE - 5)}\r\n`),
      latin1(`ECHO ${fill(PROTO_INLINE_MAX_SIZE - 4)}\r\n`),
      latin1(`*${'1'.repeat(PROTO_INLINE_MAX_SIZE - 1)}\r`),
      latin1(`*${'1'.repeat(PROTO_INLINE_MAX_SIZE)}\r`),
    ];
    for (const input of inputs) {
      const whole = parseBytes(input);
      for (const size of [1, 7, 4096, 65535, 65536, 65537]) {
        const chunks: Buffer[] = [];
        for (let at = 0; at < input.length; at += size) chunks.push(input.subarray(at, at + size));
        expect(parseChunks(chunks), `chunks of ${size}`).toEqual(whole);
      }
    }
  });

  it('honours proto-max-bulk-len', () => {
    const limits = { protoMaxBulkLen: MiB };
    expect(parseBytes(latin1(`*1\r\n$${MiB}\r\n`), { limits })).toEqual({ commands: [], error: undefined, idle: false });
    failsWith(parseBytes(latin1(`*1\r\n$${MiB + 1}\r\n`), { limits }), 'invalid bulk length');
  });

  it('applies the unauthenticated limits until the client is authenticated', () => {
    const authenticated = false;
    failsWith(parseBytes(latin1('*11\r\n'), { authenticated }), 'unauthenticated multibulk length');
    expect(parseBytes(latin1('*10\r\n'), { authenticated }).error).toBeUndefined();
    failsWith(parseBytes(latin1('*1\r\n$16385\r\n'), { authenticated }), 'unauthenticated bulk length');
    expect(parseBytes(latin1('*1\r\n$16384\r\n'), { authenticated }).error).toBeUndefined();
    // The plain validity checks come first.
    failsWith(parseBytes(latin1('*2147483648\r\n'), { authenticated }), 'invalid multibulk length');
    failsWith(parseBytes(latin1('*1\r\n$536870913\r\n'), { authenticated }), 'invalid bulk length');

    const parser = new RequestParser();
    parser.authenticated = false;
    parser.feed(Buffer.concat([multibulk('AUTH', 'secret'), multibulk(...'abcdefghijk'.split(''))]));
    expect(parser.next()?.map(String)).toEqual(['AUTH', 'secret']);
    parser.authenticated = true;
    expect(parser.next()).toHaveLength(11);
  });

  it('closes silently when a bulk outgrows client-query-buffer-limit', () => {
    const limits = { clientQueryBufferLimit: MiB };
    const frame = (length: number): Buffer => multibulk('ECHO', Buffer.alloc(length, 0x61));
    // Data and CRLF exactly at the limit pass; one byte more closes, whole or chunked.
    expect(parseBytes(frame(MiB - 2), { limits }).commands).toHaveLength(1);
    const over = parseBytes(frame(MiB - 1), { limits });
    expect(over).toEqual({ commands: [], error: 'Closing client that reached max query buffer length', idle: false });
    const parser = new RequestParser(limits);
    parser.feed(latin1(`*2\r\n$4\r\nECHO\r\n$${2 * MiB}\r\n`));
    parser.feed(Buffer.alloc(MiB, 0x61));
    expect(parser.next()).toBeUndefined();
    expect(parser.error).toBeUndefined();
    parser.feed(latin1('a'));
    expect(parser.next()).toBeUndefined();
    expect(parser.error?.kind).toBe('query-buffer-limit');
    expect(parser.error?.errorReply).toBeNull();
  });

  it('allocates nothing for giant declared lengths', () => {
    const before = process.memoryUsage().arrayBuffers;
    const parsers: RequestParser[] = [];
    for (let i = 0; i < 8; i++) {
      const parser = new RequestParser();
      parser.feed(latin1(`*2147483647\r\n$536870912\r\n${fill(1000)}`));
      expect(parser.next()).toBeUndefined();
      expect(parser.bufferedBytes).toBe(1000);
      parsers.push(parser);
    }
    // Eight parsers waiting on 512 MB each: a few KiB, not 4 GB.
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(16 * MiB);
    expect(parsers.every((parser) => parser.error === undefined)).toBe(true);
  });
});
