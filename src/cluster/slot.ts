/**
 * Redis Cluster's key → slot mapping: CRC16/XMODEM (polynomial 0x1021, initial value 0, no reflection)
 * of the key, or of its hash tag (the bytes between the first '{' and the next '}', when non-empty),
 * modulo 16384. The front routes every keyed command with it, so it runs once per key per command:
 * a 256-entry table turns the bit loop into one lookup and shift per byte.
 */
export const SLOT_COUNT = 16384;

const TABLE = (() => {
  const table = new Uint16Array(256);
  for (let byte = 0; byte < 256; byte++) {
    let crc = byte << 8;
    for (let bit = 0; bit < 8; bit++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
    table[byte] = crc;
  }
  return table;
})();

export function crc16(bytes: Uint8Array, start = 0, end = bytes.length): number {
  let crc = 0;
  for (let i = start; i < end; i++) crc = ((crc << 8) & 0xffff) ^ TABLE[((crc >>> 8) ^ bytes[i]) & 0xff];
  return crc;
}

const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;

/** The cluster slot of key bytes[start, end). */
export function keySlot(bytes: Uint8Array, start = 0, end = bytes.length): number {
  for (let open = start; open < end; open++) {
    if (bytes[open] !== OPEN_BRACE) continue;
    for (let close = open + 1; close < end; close++) {
      if (bytes[close] === CLOSE_BRACE) {
        // An empty tag "{}" does not count: the whole key is hashed.
        return close > open + 1 ? crc16(bytes, open + 1, close) & (SLOT_COUNT - 1) : crc16(bytes, start, end) & (SLOT_COUNT - 1);
      }
    }
    break;
  }
  return crc16(bytes, start, end) & (SLOT_COUNT - 1);
}

/** The shard that owns `slot` when `shards` shards split the slots into contiguous ranges, as Redis Cluster hands them to nodes. */
export function shardOfSlot(slot: number, shards: number): number {
  return Math.floor((slot * shards) / SLOT_COUNT);
}
