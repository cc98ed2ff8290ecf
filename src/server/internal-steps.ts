/**
 * The pieces the front's multi-step commands send to shards (keyspace.ts's internal `_sabre.key-*`
 * commands and their options) and the small replies they answer with, made once for every such command.
 */
import { INTERNAL_KEY_DELETE, INTERNAL_KEY_DUMP, INTERNAL_KEY_NOTIFY, INTERNAL_KEY_RESTORE } from '../commands/keyspace.js';

export const KEY_DUMP = Buffer.from(INTERNAL_KEY_DUMP);
export const KEY_RESTORE = Buffer.from(INTERNAL_KEY_RESTORE);
export const KEY_DELETE = Buffer.from(INTERNAL_KEY_DELETE);
export const KEY_NOTIFY = Buffer.from(INTERNAL_KEY_NOTIFY);
export const REPLACE = Buffer.from('REPLACE');
export const NX = Buffer.from('NX');

export const OK_REPLY = Buffer.from('+OK\r\n');
export const ZERO_REPLY = Buffer.from(':0\r\n');
export const ONE_REPLY = Buffer.from(':1\r\n');
