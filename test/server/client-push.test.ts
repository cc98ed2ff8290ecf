/**
 * Client.push (Pub/Sub messages, MONITOR's feed) against the reply order: a frame pushed while replies
 * are pending goes out after the replies reserved before it, never ahead of them; and the soft and hard
 * output-limit rules of client-output-buffer-limit, as Redis's checkClientOutputBufferLimits applies them.
 */
import type { Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { Client, type OutputScheduler } from '../../src/server/client.js';
import { outputLimitExceeded, parseOutputLimits, type OutputLimits, type SoftLimitState } from '../../src/server/output-limits.js';

function fakeClient(): { client: Client; written: () => string; reached: Client[]; limits: OutputLimits } {
  const chunks: Buffer[] = [];
  // A socket that never sends: everything written stays in its queue (writableLength).
  const fake = {
    remoteAddress: '127.0.0.1',
    remotePort: 5000,
    localAddress: '127.0.0.1',
    localPort: 6379,
    writableLength: 0,
    destroyed: false,
    write: (bytes: Uint8Array) => {
      chunks.push(Buffer.from(bytes));
      fake.writableLength += bytes.length;
    },
    end: () => undefined,
  };
  const socket = fake as unknown as Socket;
  const reached: Client[] = [];
  const limits = parseOutputLimits('normal 0 0 0 slave 0 0 0 pubsub 0 0 0');
  const scheduler: OutputScheduler = {
    markDirty: () => undefined,
    countOutput: () => undefined,
    outputLimits: limits,
    outputLimitReached: (client) => reached.push(client),
  };
  const client = new Client(1, socket, scheduler, { protoMaxBulkLen: 512 * 1024 * 1024, clientQueryBufferLimit: 1024 * 1024 * 1024 });
  return {
    client,
    written: () => {
      client.flush();
      return Buffer.concat(chunks).toString();
    },
    reached,
    limits,
  };
}

const bytes = (text: string): Buffer => Buffer.from(text);

describe('pushed frames and the reply order', () => {
  it('go out at once when no reply is pending', () => {
    const { client, written } = fakeClient();
    client.fill(client.reserve(), bytes('r0;'));
    client.push(bytes('m1;'));
    expect(written()).toBe('r0;m1;');
  });

  // The front sets runningPosition as it runs each command (front.ts execute); these tests play its part.
  it('wait behind the replies of commands that have run, early-filled ones included', () => {
    const { client, written } = fakeClient();
    const slow = client.reserve(); // a command handed to its shard (GET)
    client.runningPosition = slow + 1;
    const subscribe = client.reserve(); // answered at once by the front
    client.fill(subscribe, bytes('confirm;'));
    client.runningPosition = subscribe + 1;
    client.push(bytes('m1;'));
    const later = client.reserve();
    client.fill(later, bytes('ping;'));
    client.runningPosition = later + 1;
    client.push(bytes('m2;'));
    expect(written()).toBe('');
    client.fill(slow, bytes('get;'));
    expect(written()).toBe('get;confirm;m1;ping;m2;');
  });

  it('go before the reply of the command running (PUBLISH to itself) and of commands not yet run', () => {
    const { client, written } = fakeClient();
    const slow = client.reserve();
    client.runningPosition = slow + 1;
    const held = client.reserve(); // parsed, not run (CLIENT PAUSE)
    client.push(bytes('m1;'));
    client.fill(slow, bytes('get;'));
    expect(written()).toBe('get;m1;');
    client.runningPosition = held;
    client.push(bytes('self;'));
    client.fill(held, bytes(':1;'));
    expect(written()).toBe('get;m1;self;:1;');
  });

  it('count in the output bytes while held, and are dropped once the client is closing', () => {
    const { client, written } = fakeClient();
    const pending = client.reserve();
    client.runningPosition = pending + 1;
    client.push(bytes('12345'));
    expect(client.outputBytes).toBe(5);
    client.closing = true;
    client.push(bytes('more'));
    expect(client.outputBytes).toBe(5);
    client.fill(pending, bytes('r;'));
    expect(written()).toBe('r;12345');
  });

  it('make a client over its class limit reach the scheduler at flush', () => {
    const { client, reached, limits } = fakeClient();
    Object.assign(limits, parseOutputLimits('normal 10 0 0 slave 0 0 0 pubsub 0 0 0'));
    client.push(bytes('123456789'));
    client.flush();
    expect(reached).toEqual([]);
    // The socket still holds what was written: one byte more reaches the limit.
    client.push(bytes('x'));
    client.flush();
    expect(reached).toEqual([client]);
  });
});

describe('client-output-buffer-limit rules', () => {
  const limit = { hard: 1000, soft: 100, softSeconds: 2 };

  it('closes at the hard limit at once', () => {
    const state: SoftLimitState = { since: 0 };
    expect(outputLimitExceeded(limit, state, 999, 0)).toBe(false);
    expect(outputLimitExceeded(limit, state, 1000, 0)).toBe(true);
  });

  it('closes over the soft limit only once it stayed over for more than soft-seconds', () => {
    const state: SoftLimitState = { since: 0 };
    const at = (seconds: number) => 1_700_000_000_000 + seconds * 1000;
    expect(outputLimitExceeded(limit, state, 150, at(0))).toBe(false);
    expect(outputLimitExceeded(limit, state, 150, at(2))).toBe(false);
    expect(outputLimitExceeded(limit, state, 150, at(3))).toBe(true);
    // Dropping under the soft limit restarts the clock.
    expect(outputLimitExceeded(limit, state, 50, at(3))).toBe(false);
    expect(outputLimitExceeded(limit, state, 150, at(4))).toBe(false);
    expect(outputLimitExceeded(limit, state, 150, at(6))).toBe(false);
    expect(outputLimitExceeded(limit, state, 150, at(7))).toBe(true);
  });

  it('reads the registry value of every class, replica as slave', () => {
    expect(parseOutputLimits('normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60')).toEqual({
      normal: { hard: 0, soft: 0, softSeconds: 0 },
      replica: { hard: 268435456, soft: 67108864, softSeconds: 60 },
      pubsub: { hard: 33554432, soft: 8388608, softSeconds: 60 },
    });
  });
});
