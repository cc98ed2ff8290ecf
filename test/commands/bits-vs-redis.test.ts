/**
 * The bit commands (SETBIT GETBIT BITCOUNT BITPOS BITOP BITFIELD BITFIELD_RO) against a real
 * redis-server 7: hand-written edge cases and seeded random sequences mixed with SET, GET, APPEND and
 * friends run through sabre's execution core and through Redis, and every reply must be byte-identical,
 * in RESP2 and in RESP3 (HELLO 3). The scanning primitives behind BITCOUNT and BITPOS are also checked
 * on their own against a bit-by-bit reference, at every alignment, and the server is checked over TCP
 * with keys on two shards.
 */
import { describe, expect, it } from 'vitest';
import { countBits, findBit } from '../../src/commands/bits.js';
import { RedisConnection, b } from '../helpers/differential.js';
import { InProcessSabre, MAKE_HASH, argvOf, differences, edgeCaseTests, randomSequenceTests, redisPair, type Line } from '../helpers/in-process-sabre.js';
import { Random } from '../helpers/random.js';
import { sabreBesideRedis } from '../helpers/sabre-server.js';


const EDGE_CASES: Record<string, Line[]> = {
  'SETBIT and GETBIT': [
    'DEL s',
    'SETBIT s 7 1',
    'GET s',
    'SETBIT s 7 0',
    'SETBIT s 0 1',
    'SETBIT s 0 1',
    'GET s',
    'GETBIT s 0',
    'GETBIT s 1',
    'GETBIT s 7',
    'GETBIT s 8',
    'GETBIT s 4294967295',
    'GETBIT missing 5',
    'STRLEN s',
    'SETBIT s 17 1',
    'STRLEN s',
    'GET s',
  ],
  'SETBIT and GETBIT argument errors, in Redis order': [
    'SETBIT s -1 1',
    'SETBIT s 4294967296 1',
    'SETBIT s 9223372036854775807 1',
    'SETBIT s 9223372036854775808 1',
    'SETBIT s x 1',
    ['SETBIT', 's', '', '1'],
    'SETBIT s +1 1',
    'SETBIT s 01 1',
    'SETBIT s #1 1',
    'SETBIT s 1.0 1',
    'SETBIT s 1 2',
    'SETBIT s 1 -1',
    'SETBIT s 1 x',
    ['SETBIT', 's', '1', ''],
    'SETBIT s 1 01',
    'SETBIT s -1 2',
    `${MAKE_HASH} h`,
    'SETBIT h 1 2',
    'SETBIT h -1 1',
    'SETBIT h 1 1',
    'GETBIT h -1',
    'GETBIT h 1',
    'SETBIT s 1',
    'SETBIT s 1 1 1',
    'GETBIT s',
    'GETBIT s 1 1',
  ],
  'SETBIT grows a string in place, past the inline limit, keeping its TTL': [
    'SET g abc',
    'PEXPIRE g 100000',
    'SETBIT g 4000 1',
    'STRLEN g',
    'TTL g',
    'SETBIT g 4800 1',
    'STRLEN g',
    'GET g',
    'SETBIT g 100000 1',
    'STRLEN g',
    'TTL g',
    'BITCOUNT g',
    'GETBIT g 100000',
    'GETBIT g 99999',
    'APPEND g xyz',
    'STRLEN g',
    'SETBIT g 7 0',
    'GETRANGE g 0 2',
    'GETRANGE g -9223372036854775807 -9223372036854775808',
  ],
  BITCOUNT: [
    'SET c foobar',
    'BITCOUNT c',
    'BITCOUNT c 0 0',
    'BITCOUNT c 1 1',
    'BITCOUNT c 1 1 BYTE',
    'BITCOUNT c 1 1 byte',
    'BITCOUNT c 5 30 BIT',
    'BITCOUNT c 5 30 bit',
    'BITCOUNT c 7 7 BIT',
    'BITCOUNT c 8 15 BIT',
    'BITCOUNT c 9 9 BIT',
    'BITCOUNT c -1 -1',
    'BITCOUNT c -1 -1 BIT',
    'BITCOUNT c -2 -1 BIT',
    'BITCOUNT c -10 -3 BIT',
    'BITCOUNT c 0 -1 BIT',
    'BITCOUNT c 3 1',
    'BITCOUNT c 3 1 BIT',
    'BITCOUNT c -1 -5',
    'BITCOUNT c -1 -5 BOGUS',
    'BITCOUNT c -5 -1 BOGUS',
    'BITCOUNT c -100 100',
    'BITCOUNT c -100 100 BIT',
    'BITCOUNT c 100 200',
    'BITCOUNT c -9223372036854775807 -9223372036854775808',
    'BITCOUNT c -9223372036854775808 -9223372036854775807',
    'BITCOUNT c -9223372036854775808 9223372036854775807 BIT',
    'BITCOUNT c 9223372036854775807 -9223372036854775808',
    'BITCOUNT c 9223372036854775808 1',
    'BITCOUNT c 0',
    'BITCOUNT c 0 1 BIT x',
    'BITCOUNT c a 1',
    'BITCOUNT c 1 a',
    'BITCOUNT c a 1 BOGUS',
    'BITCOUNT missing',
    'BITCOUNT missing 0',
    'BITCOUNT missing a b c d',
    `${MAKE_HASH} h`,
    'BITCOUNT h',
    'BITCOUNT h x',
    ['SET', 'e', ''],
    'BITCOUNT e',
    'BITCOUNT e 0 -1',
    'BITCOUNT e 0 -1 BIT',
    'BITCOUNT e -1 0',
    'BITCOUNT',
  ],
  BITPOS: [
    ['SET', 'p', '\xff\xf0\x00'],
    'BITPOS p 0',
    'BITPOS p 1',
    'BITPOS p 0 0',
    'BITPOS p 0 2 -1',
    'BITPOS p 1 2 -1',
    'BITPOS p 1 2',
    'BITPOS p 0 0 -1 BIT',
    'BITPOS p 0 3 5 BIT',
    'BITPOS p 0 3 13 bit',
    'BITPOS p 1 7 15 bit',
    'BITPOS p 1 12 23 BIT',
    'BITPOS p 0 12 12 BIT',
    'BITPOS p 1 12 12 BIT',
    'BITPOS p 1 -1 -1',
    'BITPOS p 1 -12 -1 BIT',
    'BITPOS p 0 -9223372036854775808 9223372036854775807 BIT',
    'BITPOS p 0 9223372036854775807',
    'BITPOS p 0 5 2',
    'BITPOS p 0 0 0 BYTE',
    ['SET', 'ones', '\xff\xff\xff'],
    'BITPOS ones 0',
    'BITPOS ones 0 0',
    'BITPOS ones 0 1',
    'BITPOS ones 0 0 -1',
    'BITPOS ones 0 0 -1 BIT',
    'BITPOS ones 0 10 20 BIT',
    'BITPOS ones 0 3 5 BIT',
    'BITPOS ones 1 3',
    'BITPOS ones 1 -1',
    ['SET', 'z', '\x00\x00'],
    'BITPOS z 1',
    'BITPOS z 0',
    'BITPOS z 1 0 -1 BIT',
    'BITPOS z 0 9 9 BIT',
    'BITPOS missing 0',
    'BITPOS missing 1',
    'BITPOS missing 0 5 10 BIT',
    'BITPOS missing 2',
    'BITPOS missing x',
    'BITPOS p -1',
    'BITPOS p 01',
    'BITPOS p 1 x',
    'BITPOS p 1 0 x',
    'BITPOS p 1 0 1 x',
    'BITPOS p 1 0 x x',
    'BITPOS p 1 x 1 BIT',
    'BITPOS p 1 0 1 BIT extra',
    ['SET', 'e', ''],
    'BITPOS e 0',
    'BITPOS e 1',
    'BITPOS e 0 0 -1 BIT',
    'BITPOS e 0 0',
    `${MAKE_HASH} h`,
    'BITPOS h 1',
    'BITPOS h 2',
    'BITPOS h 1 x',
    'BITPOS p',
  ],
  'BITCOUNT and BITPOS over long strings (the word-at-a-time paths)': [
    'DEL big',
    'SETBIT big 8000 1',
    'SETBIT big 8001 1',
    'SETBIT big 12345 1',
    'BITPOS big 1',
    'BITPOS big 1 3',
    'BITPOS big 1 3 -1 BIT',
    'BITPOS big 1 8001 -1 BIT',
    'BITPOS big 1 8002 -1 BIT',
    'BITPOS big 1 1001 1542',
    'BITPOS big 1 1001 1543',
    'BITPOS big 0',
    'BITPOS big 0 1000 1000',
    'BITCOUNT big',
    'BITCOUNT big 1 -1',
    'BITCOUNT big 3 1000',
    'BITCOUNT big 8001 12345 BIT',
    'BITCOUNT big 8002 12344 BIT',
    ['SET', 'bigones', '\xff'.repeat(1000)],
    'SETBIT bigones 7777 0',
    'BITPOS bigones 0',
    'BITPOS bigones 0 3',
    'BITPOS bigones 0 5 -1 BIT',
    'BITPOS bigones 0 7778 -1 BIT',
    'BITPOS bigones 0 7778 -1 BYTE',
    'BITPOS bigones 0 973',
    'BITPOS bigones 0 975',
    'BITPOS bigones 1 999',
    'BITCOUNT bigones',
    'BITCOUNT bigones 5 -5',
    'BITCOUNT bigones 13 7990 BIT',
  ],
  BITOP: [
    ['SET', 'a', '\x0f\xf0'],
    ['SET', 'b', '\xff'],
    'BITOP AND d a b',
    'GET d',
    'BITOP OR d a b',
    'GET d',
    'BITOP XOR d a b',
    'GET d',
    'BITOP NOT d a',
    'GET d',
    'BITOP not d d',
    'GET d',
    'BITOP NOT d a b',
    'BITOP and d a missing',
    'GET d',
    'BITOP xor d missing a b a',
    'GET d',
    'BITOP Or d b a',
    'GET d',
    'PEXPIRE d 100000',
    'BITOP OR d a',
    'TTL d',
    'BITOP OR d missing missing2',
    'EXISTS d',
    'SET d x',
    'BITOP NOT d missing',
    'EXISTS d',
    'BITOP BOGUS d a',
    'BITOP ANDX d a',
    'BITOP AND d',
    'BITOP AND',
    `${MAKE_HASH} h`,
    'BITOP NOT d h',
    'BITOP AND d a h',
    'BITOP AND d missing h',
    'BITOP AND h a',
    'TYPE h',
    'GET h',
    ['SET', 'long1', 'x'.repeat(700)],
    ['SET', 'long2', '\x55'.repeat(650)],
    'BITOP XOR long1 long1 long2',
    'GET long1',
    'BITOP AND long3 long1 long2',
    'GET long3',
    'BITOP NOT long3 long3',
    'BITCOUNT long3',
  ],
  'BITFIELD reads and writes': [
    'DEL f',
    'BITFIELD f SET i8 0 100 GET i8 0 INCRBY i8 0 100 OVERFLOW SAT INCRBY i8 0 100 OVERFLOW FAIL INCRBY i8 0 100 GET u8 0',
    'BITFIELD f overflow wrap incrby u2 100 1 overflow sat incrby u2 102 1 overflow fail incrby u2 104 1',
    'BITFIELD f INCRBY u2 100 1 OVERFLOW SAT INCRBY u2 102 1 OVERFLOW FAIL INCRBY u2 104 1',
    'BITFIELD f INCRBY u2 100 1 OVERFLOW SAT INCRBY u2 102 1 OVERFLOW FAIL INCRBY u2 104 1',
    'BITFIELD f INCRBY u2 100 1 OVERFLOW SAT INCRBY u2 102 1 OVERFLOW FAIL INCRBY u2 104 1',
    'GET f',
    'BITFIELD f SET i64 3 9223372036854775807 INCRBY i64 3 1 GET i64 3 GET u63 3 GET u63 4',
    'BITFIELD f OVERFLOW SAT SET i64 3 9223372036854775807 INCRBY i64 3 1 INCRBY i64 3 -9223372036854775808 INCRBY i64 3 -9223372036854775808',
    'BITFIELD f OVERFLOW FAIL SET i64 3 -9223372036854775808 INCRBY i64 3 -1 INCRBY i64 3 9223372036854775807 INCRBY i64 3 1',
    'BITFIELD f SET u63 0 9223372036854775807 INCRBY u63 0 1 INCRBY u63 0 -1 OVERFLOW SAT INCRBY u63 0 1 INCRBY u63 0 -9223372036854775808',
    'BITFIELD f OVERFLOW SAT SET u8 0 -1 OVERFLOW WRAP SET u8 0 -1 OVERFLOW FAIL SET u8 0 -1 SET u8 0 256 OVERFLOW SAT SET u8 0 256',
    'BITFIELD f OVERFLOW WRAP SET u8 0 -1 SET u8 0 -256 SET u8 0 -257 SET u8 0 9223372036854775807 SET u8 0 -9223372036854775808',
    'BITFIELD f OVERFLOW SAT SET i8 0 -9223372036854775808 SET i8 0 -9223372036854775681 SET i8 0 -9223372036854775680 SET i8 0 -129 SET i8 0 128 GET i8 0',
    'BITFIELD f OVERFLOW FAIL SET i8 0 -9223372036854775808 SET i8 0 -129 SET i8 0 -128 GET i8 0',
    'BITFIELD f OVERFLOW WRAP SET i8 0 -9223372036854775808 SET i8 0 -129 SET i8 0 383 GET i8 0',
    'BITFIELD f OVERFLOW SAT SET i63 0 -9223372036854775808 SET i62 0 -9223372036854775808 SET i1 0 -9223372036854775808 SET i1 0 1 GET i1 0',
    'BITFIELD f SET i1 0 -1 GET i1 0 GET u1 0 INCRBY i1 0 1 INCRBY i1 0 -1 OVERFLOW SAT INCRBY i1 0 5 INCRBY i1 0 -5',
    'BITFIELD f INCRBY u63 0 9223372036854775807 INCRBY u63 0 9223372036854775807 INCRBY u63 0 -9223372036854775808',
    'BITFIELD f OVERFLOW SAT INCRBY i32 0 -9223372036854775808 INCRBY i32 0 9223372036854775807 GET i32 0',
    'GET f',
    ['SET', 'x', '\xde\xad\xbe\xef\x01\x02\x03\x04\x05\x06'],
    'BITFIELD x GET u63 1 GET i64 7 GET u13 5 GET i3 21 GET u1 79 GET i64 70 GET u8 80 GET i64 0 GET i64 16',
    'BITFIELD x GET u8 #1 GET i4 #3 GET u16 #4 GET i64 #1 GET u8 #2305843009213693952',
    'BITFIELD x SET i4 #3 5 SET u5 13 31 INCRBY i9 37 -200 GET u8 #0 GET u8 #1 GET u8 #2',
    'GET x',
    'BITFIELD x SET i64 60 -2 GET i64 60',
    'STRLEN x',
    'GET x',
  ],
  'BITFIELD creates and grows the string before it runs its operations': [
    'DEL nf',
    'BITFIELD nf OVERFLOW FAIL INCRBY u2 100 10',
    'STRLEN nf',
    'GET nf',
    'BITFIELD nf GET u8 1000',
    'STRLEN nf',
    'BITFIELD missing GET u8 0 GET i64 1000',
    'EXISTS missing',
    'BITFIELD missing',
    'BITFIELD missing OVERFLOW SAT',
    'EXISTS missing',
    'SET t a',
    'PEXPIRE t 100000',
    'BITFIELD t SET u8 #700 1 GET u8 #700',
    'STRLEN t',
    'TTL t',
    'BITFIELD t INCRBY u8 #1000 1 INCRBY u8 #10 1',
    'STRLEN t',
    'TTL t',
  ],
  'BITFIELD argument errors': [
    'SET f ok',
    'BITFIELD f GET u8',
    'BITFIELD f GET',
    'BITFIELD f SET u8 0',
    'BITFIELD f INCRBY u8 0',
    'BITFIELD f BOGUS u8 0',
    'BITFIELD f OVERFLOW',
    'BITFIELD f OVERFLOW bogus GET u8 0',
    'BITFIELD f OVERFLOW bogus',
    'BITFIELD f GET x8 0',
    'BITFIELD f GET U8 0',
    'BITFIELD f GET I8 0',
    'BITFIELD f GET u0 0',
    'BITFIELD f GET i0 0',
    'BITFIELD f GET u64 0',
    'BITFIELD f GET i65 0',
    'BITFIELD f GET u-1 0',
    'BITFIELD f GET u+8 0',
    'BITFIELD f GET u08 0',
    'BITFIELD f GET u 0',
    ['BITFIELD', 'f', 'GET', '', '0'],
    ['BITFIELD', 'f', 'GET', 'u8\x00xx', '0'],
    ['BITFIELD', 'f', 'GET', 'i\x008', '0'],
    'BITFIELD f GET u8 -1',
    'BITFIELD f GET u8 4294967296',
    'BITFIELD f GET u8 4294967295',
    'BITFIELD f GET u8 #x',
    'BITFIELD f GET u8 #',
    'BITFIELD f GET u8 #-1',
    'BITFIELD f GET u8 ##1',
    'BITFIELD f GET u8 #536870912',
    'BITFIELD f GET u8 #536870911',
    'BITFIELD f GET i64 #67108864',
    'BITFIELD f GET i64 #67108863',
    'BITFIELD f GET i64 #144115188075855872',
    'BITFIELD f GET u63 #146402730743726600',
    'BITFIELD f SET u8 0 x',
    'BITFIELD f SET u8 0 9223372036854775808',
    'BITFIELD f SET u8 0 1.5',
    'BITFIELD f INCRBY u8 0 ""',
    'BITFIELD f GET x8 -1',
    'BITFIELD f SET x8 -1 y',
    'BITFIELD f SET u8 -1 y',
    'BITFIELD f SET u8 0 255 GET x 0',
    'BITFIELD f SET u8 0 255 OVERFLOW nope',
    'GET f',
    `${MAKE_HASH} h`,
    'BITFIELD h',
    'BITFIELD h GET u8 0',
    'BITFIELD h SET u8 0 1',
    'BITFIELD h GET x 0',
    'BITFIELD',
  ],
  BITFIELD_RO: [
    ['SET', 'r', '\x81\x42'],
    'BITFIELD_RO r GET u8 0 GET i8 0 GET i4 #1 GET u16 4',
    'BITFIELD_RO r OVERFLOW SAT GET u8 0',
    'BITFIELD_RO r',
    'BITFIELD_RO r SET u8 0 1',
    'BITFIELD_RO r GET u8 0 INCRBY u8 0 1',
    'BITFIELD_RO r GET x 0 SET u8 0 1',
    'BITFIELD_RO r SET u8 0 1 GET x 0',
    'GET r',
    'BITFIELD_RO missing GET u8 0',
    'EXISTS missing',
    `${MAKE_HASH} h`,
    'BITFIELD_RO h GET u8 0',
    'BITFIELD_RO h SET u8 0 1',
    'BITFIELD_RO h',
    'BITFIELD_RO',
    'bitfield_ro r get u8 0',
  ],
};

/** The largest offset Redis allows: a 512 MB string, then 8 bytes more through BITFIELD. */
const LARGEST_OFFSET: Line[] = [
  'DEL huge',
  'SETBIT huge 4294967295 1',
  'GETBIT huge 4294967295',
  'GETBIT huge 4294967294',
  'STRLEN huge',
  'BITCOUNT huge',
  'BITCOUNT huge -1 -1',
  'BITPOS huge 1',
  'BITPOS huge 0',
  'BITPOS huge 1 -2 -1',
  'BITFIELD huge GET u8 #536870911 GET i64 4294967295',
  'BITFIELD huge SET i64 4294967295 1',
  'STRLEN huge',
  'BITFIELD huge GET u8 #536870912',
  'GETRANGE huge -9 -1',
  'DEL huge',
];

// ------------------------------------------------------------------ seeded random sequences

function bitCommandGenerator(random: Random) {
  const key = () => b(`k${random.int(0, 5)}`);
  const pick = (items: readonly string[]) => b(random.pick(items));
  const value = (): Buffer => {
    const roll = random.next();
    if (roll < 0.1) return b('');
    if (roll < 0.2) return b(`v${random.int(0, 999)}`);
    const length = roll < 0.9 ? random.int(1, 40) : random.int(500, 700);
    const style = random.int(0, 3);
    return Buffer.from(Array.from({ length }, () => (style === 0 ? 0 : style === 1 ? 0xff : style === 2 ? random.pick([0, 0xff, 0x0f, 0x80, 0x01]) : random.int(0, 255))));
  };
  const offset = (): Buffer => {
    const roll = random.next();
    if (roll < 0.6) return b(String(random.int(0, 400)));
    if (roll < 0.8) return b(String(random.int(0, 6000)));
    if (roll < 0.85) return b(String(random.int(10_000, 120_000)));
    return pick(['-1', 'x', '', '4294967296', '#5', '9223372036854775807', '-9223372036854775808', '01', '+3']);
  };
  const index = (): Buffer => {
    const roll = random.next();
    if (roll < 0.7) return b(String(random.int(-60, 60)));
    if (roll < 0.85) return b(String(random.int(-6000, 6000)));
    return pick(['9223372036854775807', '-9223372036854775808', '-9223372036854775807', '9223372036854775808', 'x', '', '1.0']);
  };
  const range = (maxArgs: number): Buffer[] => {
    const count = random.int(0, maxArgs);
    const args: Buffer[] = [];
    for (let i = 0; i < count; i++) args.push(i < 2 ? index() : pick(['BYTE', 'BIT', 'bit', 'byte', 'BOGUS']));
    return args;
  };
  const fieldType = (): Buffer => {
    const roll = random.next();
    if (roll < 0.48) return b(`i${random.int(1, 64)}`);
    if (roll < 0.97) return b(`u${random.int(1, 63)}`);
    return pick(['u64', 'i65', 'i0', 'x8', 'U8', 'u', 'i08', '']);
  };
  const fieldOffset = (): Buffer => {
    const roll = random.next();
    if (roll < 0.6) return b(String(random.int(0, 300)));
    if (roll < 0.87) return b(`#${random.int(0, 40)}`);
    if (roll < 0.97) return b(String(random.int(0, 6000)));
    return pick(['-1', '#-1', '#x', 'x', '4294967296', '#2305843009213693952']);
  };
  const fieldValue = (): Buffer => {
    const roll = random.next();
    if (roll < 0.6) return b(String(random.int(-300, 300)));
    if (roll < 0.8) return b(String(random.int(-(2 ** 40), 2 ** 40)));
    if (roll < 0.98) return pick(['9223372036854775807', '-9223372036854775808', '-9223372036854775681', '4611686018427387904', '-1']);
    return pick(['x', '9223372036854775808']);
  };
  const fieldOperations = (readOnly: boolean): Buffer[] => {
    const args: Buffer[] = [];
    const count = random.next() < 0.05 ? 0 : random.int(1, 5);
    for (let i = 0; i < count; i++) {
      const roll = random.next();
      if (roll < (readOnly ? 0.8 : 0.35)) args.push(b('GET'), fieldType(), fieldOffset());
      else if (roll < (readOnly ? 0.85 : 0.6)) args.push(pick(['SET', 'set']), fieldType(), fieldOffset(), fieldValue());
      else if (roll < (readOnly ? 0.9 : 0.85)) args.push(pick(['INCRBY', 'incrby']), fieldType(), fieldOffset(), fieldValue());
      else if (roll < 0.99) args.push(b('OVERFLOW'), pick(['WRAP', 'SAT', 'FAIL', 'sat', 'fail', 'FAIL', 'BOGUS']));
      else args.push(pick(['GET', 'BOGUS', 'OVERFLOW']));
    }
    return args;
  };
  return (): Buffer[] => {
    switch (random.int(0, 24)) {
      case 0:
      case 1:
        return [b('SET'), key(), value()];
      case 2:
        return [b('GET'), key()];
      case 3:
        return [b('APPEND'), key(), value()];
      case 4:
        return [b(random.pick(['STRLEN', 'DEL', 'EXISTS', 'TYPE'])), key()];
      case 5:
        return [b('SETRANGE'), key(), b(String(random.int(0, 700))), value()];
      case 6:
      case 7:
      case 8:
        return [b('SETBIT'), key(), offset(), random.next() < 0.9 ? b(String(random.int(0, 1))) : pick(['2', '-1', 'x', ''])];
      case 9:
        return [b('GETBIT'), key(), offset()];
      case 10:
      case 11:
        return [b('BITCOUNT'), key(), ...range(random.next() < 0.05 ? 4 : 3)];
      case 12:
      case 13: {
        const bit = random.next() < 0.9 ? b(String(random.int(0, 1))) : pick(['2', '-1', 'x']);
        return [b('BITPOS'), key(), bit, ...range(random.next() < 0.05 ? 4 : 3)];
      }
      case 14:
      case 15: {
        const operation = pick(['AND', 'OR', 'XOR', 'NOT', 'and', 'not', 'NAND']);
        return [b('BITOP'), operation, key(), ...Array.from({ length: random.next() < 0.7 ? 1 : random.int(2, 3) }, key)];
      }
      case 16:
      case 17:
      case 18:
        return [b('BITFIELD'), key(), ...fieldOperations(false)];
      case 19:
        return [b('BITFIELD_RO'), key(), ...fieldOperations(true)];
      case 20:
        return [b('PEXPIRE'), key(), b('100000')];
      case 21:
        return random.next() < 0.5 ? [b('TTL'), key()] : [b('GETRANGE'), key(), index(), index()];
      case 22:
        return random.next() < 0.3 ? [b(MAKE_HASH), key()] : [b('GET'), key()];
      case 23:
        return [b(random.pick(['SETBIT', 'GETBIT', 'BITOP', 'BITPOS'])), key()];
      default:
        return [b('SET'), key(), value()];
    }
  };
}

// ------------------------------------------------------------------ the suites

describe('bit commands against a real redis-server 7', () => {
  const pair = redisPair();
  edgeCaseTests(pair, EDGE_CASES);

  it('accepts the largest offset Redis allows and grows the string past 512 MB through BITFIELD', async (context) => {
    const resp2 = pair.connection(2);
    if (resp2 === undefined) return context.skip();
    await resp2.run([[b('FLUSHALL')]]);
    expect(await differences(resp2, new InProcessSabre(), LARGEST_OFFSET.map(argvOf))).toEqual([]);
  });

  randomSequenceTests(pair, [[31, 2], [32, 2], [33, 2], [34, 3]], bitCommandGenerator, 20);
});

describe('the sabre server, two shards, RESP3: bit commands and LCS, keys on one shard or several', () => {
  const servers = sabreBesideRedis(['--shards', '2']);

  it('answers as redis-server does over TCP', async (context) => {
    const { sabre, redis } = servers;
    if (redis === undefined) return context.skip();
    const ours = await RedisConnection.open(sabre.port);
    const theirs = await RedisConnection.open(redis.port);
    const lines: Line[] = [
      ['SET', '{t}a', '\x0f\xf0\xaa'],
      'SETBIT {t}b 20 1',
      'SETBIT {u}c 3 1',
      'BITOP OR {t}d {t}a {t}b',
      'GET {t}d',
      'BITOP XOR {u}d {u}c {u}missing',
      'GET {u}d',
      'BITCOUNT {t}d 0 -1 BIT',
      'BITPOS {t}d 0 2 -1 BIT',
      'BITFIELD {u}c OVERFLOW FAIL INCRBY u2 0 9 GET u4 0 SET i8 #1 -5',
      'BITFIELD_RO {u}c GET i8 #1',
      'BITFIELD_RO {u}c SET i8 #1 0',
      'GETBIT {u}c 3',
      // Keys on different shards ({t} and {b} are on different halves of the slots): run on a scratch copy.
      'BITOP AND {b}d {t}a {t}b {u}c',
      'GET {b}d',
      'BITOP NOT {t}n {b}d',
      'GET {t}n',
      'BITOP OR {t}a {b}missing {b}d',
      'GET {t}a',
      'BITOP XOR {b}gone {t}none {b}none2',
      'EXISTS {b}gone',
      ['SET', '{b}s1', 'ohmytext'],
      ['SET', '{t}s2', 'mynewtext'],
      'LCS {b}s1 {t}s2',
      'LCS {t}s2 {b}s1 IDX MINMATCHLEN 2 WITHMATCHLEN',
    ];
    const commands = lines.map(argvOf);
    // HELLO's reply names the server: compared by its protocol only.
    const [helloOurs, ...a] = await ours.run([[b('HELLO'), b('3')], ...commands]);
    const [helloTheirs, ...c] = await theirs.run([[b('HELLO'), b('3')], ...commands]);
    expect(helloOurs[0]).toBe(helloTheirs[0]);
    commands.forEach((argv, i) => expect(a[i].toString('latin1'), argv.join(' ')).toBe(c[i].toString('latin1')));
    ours.close();
    theirs.close();
  });
});

// ------------------------------------------------------------------ the scanning primitives

describe('BITCOUNT and BITPOS scanning primitives', () => {
  const bitAt = (bytes: Uint8Array, position: number) => (bytes[position >>> 3] >>> (7 - (position & 7))) & 1;

  it('count and find bits exactly as a bit-by-bit scan does, at every alignment', () => {
    const random = new Random(7);
    // One buffer, viewed at every start alignment, so the word views meet every misalignment.
    const backing = new Uint8Array(300);
    for (let round = 0; round < 400; round++) {
      const density = random.pick([0, 0.02, 0.5, 0.98, 1]);
      for (let i = 0; i < backing.length; i++) {
        let byte = 0;
        for (let bit = 0; bit < 8; bit++) byte = (byte << 1) | (random.next() < density ? 1 : 0);
        backing[i] = byte;
      }
      const view = backing.subarray(random.int(0, 3), random.int(200, 300));
      const from = random.int(0, view.length - 1);
      const to = random.int(from + 1, view.length);
      let expectedCount = 0;
      for (let p = from * 8; p < to * 8; p++) expectedCount += bitAt(view, p);
      expect(countBits(view, from, to)).toBe(expectedCount);
      const fromBit = random.int(0, view.length * 8 - 1);
      const toBit = random.int(fromBit, view.length * 8 - 1);
      for (const bit of [0, 1] as const) {
        let expected = -1;
        for (let p = fromBit; p <= toBit && expected === -1; p++) if (bitAt(view, p) === bit) expected = p;
        expect(findBit(view, fromBit, toBit, bit), `bit ${bit} in [${fromBit}, ${toBit}]`).toBe(expected);
      }
    }
  });
});
