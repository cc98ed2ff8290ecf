/**
 * The numbers of Redis's RDB format (rdb.h) that sabre reads and writes: the version, the value types
 * and the opcodes that may stand where a value type would.
 */

/** The RDB version sabre writes (Redis 7.0). */
export const RDB_VERSION = 10;
/** The newest version sabre reads: Redis 7.2's 11 adds only the listpack set. */
export const RDB_VERSION_READABLE = 11;

export const enum RdbType {
  String = 0,
  List = 1,
  Set = 2,
  ZSet = 3,
  Hash = 4,
  ZSet2 = 5,
  ModulePre = 6,
  Module2 = 7,
  HashZipmap = 9,
  ListZiplist = 10,
  SetIntset = 11,
  ZSetZiplist = 12,
  HashZiplist = 13,
  ListQuicklist = 14,
  StreamListpacks = 15,
  HashListpack = 16,
  ZSetListpack = 17,
  ListQuicklist2 = 18,
  StreamListpacks2 = 19,
  SetListpack = 20,
  StreamListpacks3 = 21,
}

export const enum RdbOpcode {
  Function2 = 245,
  Function = 246,
  ModuleAux = 247,
  Idle = 248,
  Freq = 249,
  Aux = 250,
  ResizeDb = 251,
  ExpireTimeMs = 252,
  ExpireTime = 253,
  SelectDb = 254,
  Eof = 255,
}

/** The special string encodings (a length byte of 11xxxxxx). */
export const enum RdbStringEncoding {
  Int8 = 0,
  Int16 = 1,
  Int32 = 2,
  Lzf = 3,
}

/** A quicklist 2 node's container: one big element on its own, or a listpack. */
export const enum QuicklistContainer {
  Plain = 1,
  Packed = 2,
}
