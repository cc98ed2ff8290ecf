/**
 * Sharing a pool with other threads: pool.handle() gives a small structured-clonable description (a
 * name and a shared state word), and ShardPool.attach(handle) in any thread of the process gives an
 * AttachedPool with the pool's command API.
 *
 * The design is the simplest correct one: an attached thread cannot reach the shards' rings itself
 * (each ring has one producer, the owner's front), so it gets a link of its own to the owner's thread
 * (async-link.ts: a ring pair in shared memory). Its commands travel there as argv, run as an embedded
 * client of the owner's front, and their RESP replies travel back, to be decoded in the attached
 * thread. That is a double hop (attached thread → owner's front → shard and back), and the owner's
 * event loop carries every attached thread's traffic. A faster design would give each attached thread
 * its own front: its own request ring to every shard (shards then consume several rings) and the
 * slot table, with multi-shard transactions coordinated through shared memory rather than by one
 * front's scheduler.
 *
 * Attaching: the attached thread makes the link's buffers and announces them on a BroadcastChannel
 * named by the handle; the owner opens an embedded client for the link. A closed pool sets the state
 * word, so attaching with its handle fails at once, and closes every link (their pending commands fail).
 * Closing an attached pool closes only its link.
 */
import { BroadcastChannel } from 'node:worker_threads';
import { randomUUID } from 'node:crypto';
import type { Client, ClientSocket } from '../server/client.js';
import type { Front } from '../server/front.js';
import { AsyncLink, createLinkBuffers, type LinkBuffers } from './async-link.js';
import { Commands } from './client-commands.js';
import type { CommandConnection, Settle } from './in-process-connection.js';
import { ReplyDecoder } from './reply-decoder.js';
import { PoolError } from './reply-error.js';

/** What ShardPool.attach needs; pass it in workerData, a piscina task, or a message. */
export interface PoolHandle {
  readonly name: string;
  /** Int32 word 0: 1 once the pool has closed. */
  readonly state: SharedArrayBuffer;
}

const OWNER = 0;
const ATTACHED = 1;

/** argv as one message: count, then each argument's length and bytes (little-endian u32s). */
function encodeArgv(argv: readonly Buffer[]): Buffer {
  let length = 4;
  for (const arg of argv) length += 4 + arg.length;
  const out = Buffer.allocUnsafe(length);
  out.writeUInt32LE(argv.length, 0);
  let at = 4;
  for (const arg of argv) {
    out.writeUInt32LE(arg.length, at);
    arg.copy(out, at + 4);
    at += 4 + arg.length;
  }
  return out;
}

/** The argv of a message, copied out of the ring. */
function decodeArgv(message: Uint8Array): Buffer[] {
  const view = Buffer.from(message.buffer, message.byteOffset, message.length);
  const count = view.readUInt32LE(0);
  const argv = new Array<Buffer>(count);
  let at = 4;
  for (let i = 0; i < count; i++) {
    const length = view.readUInt32LE(at);
    argv[i] = Buffer.from(view.subarray(at + 4, at + 4 + length));
    at += 4 + length;
  }
  return argv;
}

/** The owner's end of one attached thread's link: an embedded client whose replies go back as bytes. */
class RelayConnection implements ClientSocket {
  destroyed = false;
  readonly writableLength = 0;
  readonly client: Client;
  private readonly link: AsyncLink;

  constructor(
    private readonly front: Front,
    commitSoon: () => void,
    buffers: LinkBuffers,
    private readonly forget: (relay: RelayConnection) => void,
  ) {
    this.client = front.connect(this);
    this.link = new AsyncLink(
      buffers,
      OWNER,
      (message) => {
        front.dispatch(this.client, decodeArgv(message));
        commitSoon();
      },
      () => this.destroy(),
    );
  }

  write(bytes: Uint8Array): void {
    this.link.send(bytes);
  }

  /** Resolves once every command received so far is answered, or its client is blocked (looked at now and then: closing only). */
  async whenIdle(): Promise<void> {
    const client = this.client;
    while (client.pendingReplies !== 0 && client.blocking !== 'blocked' && !this.destroyed) await new Promise((resolve) => setTimeout(resolve, 2));
  }

  end(done: () => void): void {
    done();
  }

  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.front.disconnect(this.client);
    this.link.close();
    this.forget(this);
  }
}

/** The owner's side of handle(): hears attaching threads and serves their links. */
export class AttachServer {
  readonly handle: PoolHandle;
  private readonly channel: BroadcastChannel;
  private readonly relays = new Set<RelayConnection>();

  constructor(front: Front, commitSoon: () => void) {
    this.handle = { name: `sabre-pool-${randomUUID()}`, state: new SharedArrayBuffer(4) };
    this.channel = new BroadcastChannel(this.handle.name);
    this.channel.unref();
    this.channel.onmessage = (event) => {
      const buffers = (event as { data: LinkBuffers }).data;
      this.relays.add(new RelayConnection(front, commitSoon, buffers, (relay) => this.relays.delete(relay)));
    };
  }

  links(): RelayConnection[] {
    return [...this.relays];
  }

  /** Marks the handle's pool closed and closes every link. */
  close(): void {
    Atomics.store(new Int32Array(this.handle.state), 0, 1);
    this.channel.close();
    for (const relay of [...this.relays]) relay.destroy();
  }
}

/** A pool used from another thread through its handle: the pool's command API over a link to its owner. */
export class AttachedPool extends Commands implements CommandConnection {
  protected readonly dedicated = false;
  private settles: Settle[] = [];
  private texts: boolean[] = [];
  private head = 0;
  private readonly decoder = new ReplyDecoder();
  private readonly link: AsyncLink;
  private closedBy: string | undefined;

  constructor(handle: PoolHandle) {
    super();
    if (Atomics.load(new Int32Array(handle.state), 0) === 1) throw new PoolError('this handle belongs to a pool that is closed');
    const buffers = createLinkBuffers();
    this.link = new AsyncLink(buffers, ATTACHED, (message) => this.receive(message), () => this.closed('the pool is closed'));
    const channel = new BroadcastChannel(handle.name);
    channel.postMessage(buffers);
    channel.close();
  }

  protected connection(): CommandConnection {
    if (this.closedBy !== undefined) throw new PoolError(this.closedBy);
    return this;
  }

  send(argv: Buffer[], text: boolean, settle: Settle): void {
    if (this.settles.length === this.head) this.link.keepAlive(true);
    this.settles.push(settle);
    this.texts.push(text);
    this.link.send(encodeArgv(argv));
  }

  /** Closes this thread's link; the pool and every other user of it go on. Unanswered commands fail. */
  close(): void {
    if (this.closedBy !== undefined) return;
    this.link.close();
    this.closed('this attached pool is closed');
  }

  private receive(message: Uint8Array): void {
    const decoder = this.decoder;
    decoder.start(message);
    while (!decoder.done) {
      const index = this.head++;
      const settle = this.settles[index];
      settle(decoder.next(this.texts[index]));
    }
    if (this.head === this.settles.length) {
      this.settles.length = 0;
      this.texts.length = 0;
      this.head = 0;
      this.link.keepAlive(false);
    }
  }

  private closed(reason: string): void {
    this.closedBy = reason;
    this.link.keepAlive(false);
    const settles = this.settles.slice(this.head);
    this.settles = [];
    this.texts = [];
    this.head = 0;
    for (const settle of settles) settle(new PoolError(`${reason} before the command was answered`));
  }
}

export function attachToPool(handle: PoolHandle): AttachedPool {
  return new AttachedPool(handle);
}
