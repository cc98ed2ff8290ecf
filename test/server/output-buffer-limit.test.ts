/**
 * client-output-buffer-limit against a subscriber that stops reading while a publisher floods its
 * channel: sabre closes it at the pubsub class's hard limit, or once it stayed over the soft limit for
 * longer than soft-seconds, logs Redis's warning, and keeps its own memory bounded and serving others.
 *
 * The kernel's socket buffers take a few megabytes before the server's own output grows, so the flood is
 * sent until the subscriber is gone (PUBLISH then counts no receiver), with a cap far above what the
 * limits allow.
 */
import net from 'node:net';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeCommand } from '../helpers/differential.js';
import { startSabre, type RunningSabre } from '../helpers/sabre-server.js';

let sabre: RunningSabre;
let control: Redis;

beforeAll(async () => {
  sabre = await startSabre();
  control = new Redis({ port: sabre.port, lazyConnect: true });
  await control.connect();
});

afterAll(async () => {
  control.disconnect();
  expect(await sabre.stop()).toBe(0);
});

/** A raw connection that subscribes to `channel`, then stops reading. */
async function stalledSubscriber(channel: string): Promise<net.Socket> {
  const socket = net.connect(sabre.port, '127.0.0.1');
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.once('connect', () => socket.write(encodeCommand([Buffer.from('SUBSCRIBE'), Buffer.from(channel)])));
    socket.once('data', () => {
      socket.pause();
      resolve();
    });
  });
  socket.on('error', () => {
    // The server resets the connection when it closes it: that is the point of the test.
  });
  return socket;
}

function rssBytes(info: string): number {
  return Number(/used_memory_rss:(\d+)/.exec(info)?.[1]);
}

/**
 * Publishes `batch` messages of `size` bytes every `pauseMs` until one PUBLISH reaches nobody; returns how
 * many bytes were published up to then and how long it took.
 */
async function floodUntilGone(channel: string, size: number, batch: number, pauseMs: number, capBytes: number): Promise<{ bytes: number; ms: number }> {
  const publisher = new Redis({ port: sabre.port, lazyConnect: true });
  await publisher.connect();
  const payload = Buffer.alloc(size, 'x');
  const started = Date.now();
  let bytes = 0;
  try {
    while (bytes < capBytes) {
      const pipeline = publisher.pipeline();
      for (let i = 0; i < batch; i++) pipeline.publish(channel, payload);
      const results = (await pipeline.exec())!;
      bytes += batch * size;
      if (results.some(([, receivers]) => receivers === 0)) return { bytes, ms: Date.now() - started };
      // Others are served meanwhile.
      expect(await control.ping()).toBe('PONG');
      if (pauseMs > 0) await new Promise((resolve) => setTimeout(resolve, pauseMs));
    }
    throw new Error(`the subscriber was never disconnected after ${bytes} bytes`);
  } finally {
    publisher.disconnect();
  }
}

describe('client-output-buffer-limit for Pub/Sub clients', () => {
  it('closes a subscriber that stops reading at the hard limit, and memory stays bounded', async () => {
    expect(await control.config('SET', 'client-output-buffer-limit', 'pubsub 1mb 512kb 60')).toBe('OK');
    const rssBefore = rssBytes(await control.info('memory'));
    const subscriber = await stalledSubscriber('flood');
    const { bytes } = await floodUntilGone('flood', 16 * 1024, 64, 0, 512 * 1024 * 1024);
    // What the kernel's buffers took plus the 1 MB limit: far short of the 512 MB the publisher would send.
    expect(bytes).toBeLessThan(64 * 1024 * 1024);
    expect(await control.pubsub('NUMSUB', 'flood')).toEqual(['flood', 0]);
    expect(rssBytes(await control.info('memory')) - rssBefore).toBeLessThan(64 * 1024 * 1024);
    expect(sabre.log()).toMatch(/Client id=\d+ .*flags=P .*sub=1 .* scheduled to be closed ASAP for overcoming of output buffer limits\./);
    expect(await control.set('still', 'serving')).toBe('OK');
    expect(await control.get('still')).toBe('serving');
    subscriber.destroy();
  });

  it('closes a subscriber that stays over the soft limit for longer than soft-seconds, not sooner', async () => {
    expect(await control.config('SET', 'client-output-buffer-limit', 'pubsub 0 256kb 1')).toBe('OK');
    const subscriber = await stalledSubscriber('slow');
    const { ms } = await floodUntilGone('slow', 16 * 1024, 64, 100, 512 * 1024 * 1024);
    // Over the soft limit for more than one whole second, counted in Unix seconds as Redis counts them.
    expect(ms).toBeGreaterThanOrEqual(1000);
    expect(ms).toBeLessThan(10_000);
    subscriber.destroy();
  });

  it('leaves a subscriber under the limits connected', async () => {
    expect(await control.config('SET', 'client-output-buffer-limit', 'pubsub 32mb 8mb 60')).toBe('OK');
    const subscriber = await stalledSubscriber('calm');
    for (let i = 0; i < 10; i++) expect(await control.publish('calm', Buffer.alloc(16 * 1024, 'y'))).toBe(1);
    expect(await control.pubsub('NUMSUB', 'calm')).toEqual(['calm', 1]);
    subscriber.destroy();
  });
});
