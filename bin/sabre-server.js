#!/usr/bin/env node
// Entry point of the sabre server. The RESP server arrives with the shard-engine work; until then this
// says what the project is and which parts exist.
import { Arena, SEGMENT_SIZE, PAGE_SIZE } from 'native-free-alloc';

const arena = new Arena();
const handle = arena.alloc(64);
arena.free(handle, 64);
console.log(
  'sabre 0.1.0: a Redis-compatible store on SharedArrayBuffer shards (in development).\n' +
    `The native-free-alloc allocator is ready (${PAGE_SIZE}-byte pages, ${SEGMENT_SIZE / 1048576} MiB segments); ` +
    'the RESP server is not built yet, so there is nothing to listen on 127.0.0.1:6379 today.',
);
