import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { FrontChannel } from '../../src/transport/channel.js';
import { FrameAssembler, REPLY_PREFIX_BYTES, encodeRequest, frameId, framesOf } from '../../src/shard/frames.js';

const bootstrap = new URL('../helpers/ts-worker.mjs', import.meta.url);
const workerFile = new URL('../../src/shard/worker.ts', import.meta.url);

/** The front's side of one shard, as a test drives it: send argv, get each reply's bytes, in order. */
function startShard() {
  const channel = FrontChannel.create();
  const worker = new Worker(bootstrap, { workerData: { tsFile: workerFile.href, channel: channel.describe() } });
  const pending = new Map<number, (reply: Buffer) => void>();
  const assembler = new FrameAssembler();
  channel.onReplies((frames) => {
    for (const incoming of frames) {
      const id = frameId(incoming);
      const payload = assembler.add(incoming);
      if (payload !== undefined) {
        pending.get(id)!(Buffer.from(payload.subarray(REPLY_PREFIX_BYTES)));
        pending.delete(id);
      }
    }
  });
  let nextId = 1;
  const send = (argv: string[] | Buffer[], db = 0): Promise<Buffer> => {
    const id = nextId++;
    const reply = new Promise<Buffer>((resolve) => pending.set(id, resolve));
    const args = argv.map((a) => (typeof a === 'string' ? Buffer.from(a) : a));
    for (const out of framesOf(encodeRequest(id, db, 2, -1, args), channel.maxRequestLength)) channel.send(out);
    return reply;
  };
  // The worker first announces its arena's control buffer (for the front's maxmemory checks); the
  // summary is the message with the key count, posted as it ends.
  const summary = new Promise<{ keys: number }>((resolve) =>
    worker.on('message', (message: { keys?: number }) => {
      if (message.keys !== undefined) resolve({ keys: message.keys });
    }),
  );
  const exited = new Promise<number>((resolve) => worker.once('exit', resolve));
  const close = async () => {
    await channel.close();
    return { summary: await summary, exitCode: await exited };
  };
  return { send, close, channel };
}

describe('a shard worker behind its channel', () => {
  it('executes a deep pipeline in order and answers every command', async () => {
    const shard = startShard();
    shard.channel.beginBatch();
    const replies: Promise<Buffer>[] = [];
    for (let i = 0; i < 5000; i++) replies.push(shard.send(['SET', `key:${i}`, `value:${i}`]));
    for (let i = 0; i < 5000; i++) replies.push(shard.send(['GET', `key:${i}`]));
    shard.channel.commit();
    const all = await Promise.all(replies);
    for (let i = 0; i < 5000; i++) expect(all[i].toString()).toBe('+OK\r\n');
    for (let i = 0; i < 5000; i++) expect(all[5000 + i].toString()).toBe(`$${`value:${i}`.length}\r\nvalue:${i}\r\n`);
    expect((await shard.send(['GET', 'key:1'], 1)).toString()).toBe('$-1\r\n');
    const { summary, exitCode } = await shard.close();
    expect(summary.keys).toBe(5000);
    expect(exitCode).toBe(0);
  });

  it('carries values larger than its rings in chunks, both ways', async () => {
    const shard = startShard();
    const big = Buffer.alloc(3 * 1024 * 1024 + 17);
    for (let i = 0; i < big.length; i++) big[i] = (i * 7) & 255;
    expect((await shard.send([Buffer.from('SET'), Buffer.from('big'), big])).toString()).toBe('+OK\r\n');
    const reply = await shard.send(['GET', 'big']);
    const header = `$${big.length}\r\n`;
    expect(reply.subarray(0, header.length).toString()).toBe(header);
    expect(reply.subarray(header.length, header.length + big.length).equals(big)).toBe(true);
    expect((await shard.send(['STRLEN', 'big'])).toString()).toBe(`:${big.length}\r\n`);
    await shard.close();
  });

  it('expires keys in its idle loop, without any client touching them', async () => {
    const shard = startShard();
    const replies: Promise<Buffer>[] = [];
    for (let i = 0; i < 1000; i++) replies.push(shard.send(['SET', `t:${i}`, 'v', 'PX', '50']));
    for (let i = 0; i < 100; i++) replies.push(shard.send(['SET', `p:${i}`, 'v']));
    await Promise.all(replies);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const { summary } = await shard.close();
    expect(summary.keys).toBe(100);
  });
});
