/**
 * setValue/getValue's encoding: msgpackr with records and structured cloning (Maps, Sets, Dates,
 * typed arrays, BigInts, cycles).
 *
 * Records are kept self-describing: the Packr has no shared structure table, so a record's field list
 * travels inside the value that uses it (once per message, then referred to by id within it). Any
 * thread, any pool user and a later process decode every value with a fresh Unpackr. A structure table
 * shared between writers would save those bytes, but it must be the same table in every thread that
 * ever reads a value and must outlive them all (stored in the pool and updated atomically as new
 * shapes appear); a value written with one table's numbering and read with another decodes into the
 * wrong fields, silently. Correct first.
 *
 * msgpackr would quietly turn a function into nothing; such values are refused instead.
 */
import { Packr, Unpackr } from 'msgpackr';
import { PoolError } from './reply-error.js';

const packr = new Packr({ useRecords: true, structuredClone: true });
const unpackr = new Unpackr({ useRecords: true, structuredClone: true });

/** Throws PoolError for what msgpackr would drop or cannot write: functions and symbols, at any depth. */
function checkEncodable(value: unknown, seen: Set<object>): void {
  const type = typeof value;
  if (type === 'function' || type === 'symbol') throw new PoolError(`setValue: a ${type} cannot be stored (values must be structured-clonable)`);
  if (type !== 'object' || value === null || seen.has(value as object) || ArrayBuffer.isView(value)) return;
  seen.add(value as object);
  if (value instanceof Map) {
    for (const [key, item] of value) {
      checkEncodable(key, seen);
      checkEncodable(item, seen);
    }
  } else if (value instanceof Set || Array.isArray(value)) {
    for (const item of value) checkEncodable(item, seen);
  } else for (const key in value as object) checkEncodable((value as Record<string, unknown>)[key], seen);
}

export function encodeValue(value: unknown): Buffer {
  if (value === undefined) throw new PoolError('setValue: undefined cannot be stored (getValue answers undefined for a missing key)');
  checkEncodable(value, new Set());
  try {
    return packr.pack(value);
  } catch (error) {
    throw new PoolError(`setValue: the value cannot be encoded: ${(error as Error).message}`);
  }
}

/** The stored value, or undefined when the key does not exist. */
export function decodeValue(bytes: Buffer | null): unknown {
  return bytes === null ? undefined : unpackr.unpack(bytes);
}
