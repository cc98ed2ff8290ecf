#!/usr/bin/env node
// Writes src/commands/redis-commands.json and redis-command-docs.json: the COMMAND INFO metadata (name, arity, flags, key positions,
// ACL categories, tips, key specs, subcommands) of the commands sabre implements, as a real Redis 7.0
// reports it. Usage: node scripts/import-command-info.mjs <redis port>. The list below grows with each
// command family; test/commands/table.test.ts checks the file against a live redis-server.
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';

const port = process.argv[2] ?? '6379';
const names = `
  ping echo quit select swapdb dbsize flushdb flushall time lastsave info config client debug monitor
  slowlog latency shutdown hello auth command reset
  get set setnx setex psetex getset getdel getex mget mset msetnx append strlen incr decr incrby decrby
  incrbyfloat getrange setrange substr lcs setbit getbit bitcount bitpos bitop bitfield bitfield_ro
  del unlink exists type rename renamenx copy move expire pexpire expireat pexpireat ttl pttl expiretime
  pexpiretime persist keys scan randomkey touch object
  hset hsetnx hget hmget hmset hdel hlen hstrlen hexists hkeys hvals hgetall hincrby hincrbyfloat
  hrandfield hscan
  pfadd pfcount pfmerge pfdebug pfselftest
  lpush rpush lpushx rpushx lpop rpop llen lrange lindex lset linsert lrem ltrim lpos lmove rpoplpush lmpop
  zadd zincrby zrem zcard zscore zmscore zrank zrevrank zcount zlexcount zrange zrangestore zrangebyscore
  zrevrangebyscore zrangebylex zrevrangebylex zrevrange zremrangebyrank zremrangebyscore zremrangebylex
  zpopmin zpopmax zmpop zrandmember zunion zinter zdiff zunionstore zinterstore zdiffstore zintercard zscan
  sadd srem scard sismember smismember smembers srandmember spop smove sinter sintercard sinterstore
  sunion sunionstore sdiff sdiffstore sscan
  memory
  sort sort_ro
  blpop brpop blmove brpoplpush blmpop bzpopmin bzpopmax bzmpop
  subscribe unsubscribe psubscribe punsubscribe publish pubsub ssubscribe sunsubscribe spublish
  multi exec discard watch unwatch wait
  dump restore save bgsave bgrewriteaof
`.trim().split(/\s+/);
const json = execFileSync('redis-cli', ['-p', port, '--json', 'command', 'info', ...names], { encoding: 'utf8' });
const infos = JSON.parse(json);
const missing = names.filter((_, i) => infos[i] === null);
if (missing.length > 0) throw new Error(`unknown to this redis-server: ${missing.join(' ')}`);
writeFileSync(new URL('../src/commands/redis-commands.json', import.meta.url), JSON.stringify(infos, null, 1) + '\n');
// COMMAND DOCS of the same commands, as a map from name to doc.
const docs = JSON.parse(execFileSync('redis-cli', ['-p', port, '--json', 'command', 'docs', ...names], { encoding: 'utf8' }));
writeFileSync(new URL('../src/commands/redis-command-docs.json', import.meta.url), JSON.stringify(docs) + '\n');
console.log(`wrote ${infos.length} commands and their docs`);
