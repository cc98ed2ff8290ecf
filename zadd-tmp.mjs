import { Shard } from './dist/src/shard/shard.js';
import { CommandTable } from './dist/src/commands/table.js';
const shard = new Shard();
const table = new CommandTable();
const idx = table.lookup(Buffer.from('zadd')).index;
const argvs = [];
for (let i = 0; i < 200000; i++) { const r = Math.floor(Math.random() * 100000); argvs.push([Buffer.from('ZADD'), Buffer.from('myzset'), Buffer.from(String(r)), Buffer.from('element:' + r)]); }
for (let round = 0; round < 6; round++) {
  const t = performance.now();
  for (const argv of argvs) shard.execute(0, 2, argv, idx);
  console.log('zadd µs/op', ((performance.now() - t) * 1000 / argvs.length).toFixed(3));
}
const hidx = table.lookup(Buffer.from('hset')).index;
const hargv = argvs.map((a) => [Buffer.from('HSET'), Buffer.from('myhash'), a[3], a[2]]);
for (let round = 0; round < 3; round++) {
  const t = performance.now();
  for (const argv of hargv) shard.execute(0, 2, argv, hidx);
  console.log('hset µs/op', ((performance.now() - t) * 1000 / argvs.length).toFixed(3));
}
