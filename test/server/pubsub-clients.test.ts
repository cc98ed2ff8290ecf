/**
 * Pub/Sub through the clients applications use: ioredis (RESP2, subscribed-mode connection) and node-redis
 * (RESP2 and RESP3, where a subscribed connection keeps running commands). Messages must arrive whole, in
 * publish order, with the receiver counts Redis gives.
 */
import { Redis } from 'ioredis';
import { createClient } from 'redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSabre, type RunningSabre } from '../helpers/sabre-server.js';

let sabre: RunningSabre;

beforeAll(async () => {
  sabre = await startSabre(['--shards', '2']);
});

afterAll(async () => {
  expect(await sabre.stop()).toBe(0);
});

/** Resolves once `count` items have been collected into `into`. */
function collect<T>(into: T[], count: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const deadline = Date.now() + 5000;
    const check = (): void => {
      if (into.length >= count) resolve();
      else if (Date.now() > deadline) reject(new Error(`only ${into.length} of ${count} arrived: ${JSON.stringify(into).slice(0, 300)}`));
      else setTimeout(check, 5);
    };
    check();
  });
}

async function nodeRedis(protocol: 2 | 3) {
  const client = createClient({ socket: { port: sabre.port, host: '127.0.0.1', reconnectStrategy: false }, RESP: protocol });
  client.on('error', () => {
    // Failures surface through the rejected command.
  });
  await client.connect();
  return client;
}

describe('ioredis', () => {
  it('subscribes to channels and patterns and receives every message in order', async () => {
    const subscriber = new Redis({ port: sabre.port, lazyConnect: true });
    const publisher = new Redis({ port: sabre.port, lazyConnect: true });
    await Promise.all([subscriber.connect(), publisher.connect()]);
    try {
      const messages: string[] = [];
      subscriber.on('message', (channel: string, message: string) => messages.push(`${channel}:${message}`));
      subscriber.on('pmessage', (pattern: string, channel: string, message: string) => messages.push(`${pattern}|${channel}:${message}`));
      expect(await subscriber.subscribe('io:a', 'io:b')).toBe(2);
      expect(await subscriber.psubscribe('io:*')).toBe(3);
      expect(await publisher.publish('io:a', 'first')).toBe(2);
      expect(await publisher.publish('io:c', 'second')).toBe(1);
      expect(await publisher.pubsub('NUMSUB', 'io:a', 'io:c')).toEqual(['io:a', 1, 'io:c', 0]);
      expect(await publisher.pubsub('NUMPAT')).toBe(1);
      const pipeline = publisher.pipeline();
      for (let i = 0; i < 500; i++) pipeline.publish('io:b', String(i));
      await pipeline.exec();
      await collect(messages, 3 + 1000);
      expect(messages.slice(0, 3)).toEqual(['io:a:first', 'io:*|io:a:first', 'io:*|io:c:second']);
      const numbered = messages.slice(3).filter((message) => message.startsWith('io:b:')).map((message) => Number(message.slice(5)));
      expect(numbered).toEqual(Array.from({ length: 500 }, (_, i) => i));
      expect(await subscriber.unsubscribe('io:a', 'io:b')).toBe(1);
      expect(await subscriber.punsubscribe('io:*')).toBe(0);
      expect(await subscriber.ping()).toBe('PONG');
      expect(await publisher.publish('io:a', 'nobody')).toBe(0);
    } finally {
      subscriber.disconnect();
      publisher.disconnect();
    }
  });
});

describe('node-redis', () => {
  for (const protocol of [2, 3] as const) {
    it(`receives channel, pattern and shard messages over RESP${protocol}`, async () => {
      const client = await nodeRedis(protocol);
      const subscriber = client.duplicate();
      await subscriber.connect();
      try {
        const received: string[] = [];
        await subscriber.subscribe('nr:news', (message, channel) => received.push(`${channel}:${message}`));
        await subscriber.pSubscribe('nr:*', (message, channel) => received.push(`p ${channel}:${message}`));
        await subscriber.sSubscribe('nr:{shard}', (message, channel) => received.push(`s ${channel}:${message}`));
        expect(await client.publish('nr:news', 'hello')).toBe(2);
        expect(await client.sPublish('nr:{shard}', 'sharded')).toBe(1);
        expect(await client.pubSubNumSub(['nr:news'])).toEqual({ 'nr:news': 1 });
        expect(await client.pubSubShardChannels()).toEqual(['nr:{shard}']);
        await collect(received, 3);
        expect(received.sort()).toEqual(['nr:news:hello', 'p nr:news:hello', 's nr:{shard}:sharded']);
        if (protocol === 3) {
          // RESP3: a subscribed connection still runs ordinary commands, messages arriving as pushes.
          expect(await subscriber.set('nr:key', 'v')).toBe('OK');
          expect(await subscriber.get('nr:key')).toBe('v');
        }
        await subscriber.unsubscribe('nr:news');
        expect(await client.publish('nr:news', 'pattern only')).toBe(1);
        await collect(received, 4);
        expect(received[3]).toBe('p nr:news:pattern only');
      } finally {
        await subscriber.close();
        await client.close();
      }
    });
  }
});
