/**
 * sabre embedded: `import { ShardPool } from 'sabre'`. See the README's Embedding section.
 */
export { ShardPool, PoolClient, type InfoSections, type MemoryStats } from './shard-pool.js';
export { AttachedPool, type PoolHandle } from './attach.js';
export { ReplyError, PoolError } from './reply-error.js';
export type { Reply } from './reply-decoder.js';
export type { Arg, SetOptions } from './commands.js';
export type { PoolOptions, PoolOptionValue } from './pool-options.js';
export type { Pipeline, Multi } from './batch.js';
