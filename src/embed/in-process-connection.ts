/**
 * An embedded client's connection to the front: what the front writes replies to instead of a socket
 * (client.ts ClientSocket), and the way in for argv that skips RESP parsing. The front serves it exactly
 * as a socket's client (routing, multi-shard commands, MULTI/EXEC/WATCH, blocking, errors), so embedded
 * mode has no command semantics of its own.
 *
 * Replies come back in request order, batched per event-loop task by the front's flush, as whole frames;
 * each is decoded and handed to the request's `settle`, oldest first. Embedded clients run no command
 * that writes anything but replies (no Pub/Sub, MONITOR, CLIENT REPLY: refused.ts), so frames and
 * requests pair one to one (a frame with no request waiting is dropped).
 */
import type { Client, ClientSocket } from '../server/client.js';
import type { Front } from '../server/front.js';
import { ReplyDecoder, type Reply } from './reply-decoder.js';
import { PoolError } from './reply-error.js';

/** Receives one request's decoded reply, or the PoolError that ended it unanswered. */
export type Settle = (reply: Reply | PoolError) => void;

/** Where typed commands go: an in-process connection, or an attached thread's link to one. */
export interface CommandConnection {
  /** Sends argv; `settle` hears its reply, bulk strings decoded as text when `text`. Throws PoolError when closed. */
  send(argv: Buffer[], text: boolean, settle: Settle): void;
}

export class InProcessConnection implements ClientSocket, CommandConnection {
  destroyed = false;
  readonly writableLength = 0;
  readonly client: Client;
  /** Requests awaiting replies, oldest at `head`: their settles and decode modes. */
  private settles: Settle[] = [];
  private texts: boolean[] = [];
  private head = 0;
  private readonly decoder = new ReplyDecoder();

  /** @param commitSoon the shard pool's: commits this run's sends without waiting for the turn's end */
  constructor(
    private readonly front: Front,
    private readonly commitSoon: () => void,
    private readonly closedMessage: string,
  ) {
    this.client = front.connect(this);
  }

  get pending(): number {
    return this.settles.length - this.head;
  }

  send(argv: Buffer[], text: boolean, settle: Settle): void {
    if (this.destroyed) throw new PoolError(this.closedMessage);
    this.settles.push(settle);
    this.texts.push(text);
    this.front.dispatch(this.client, argv);
    this.commitSoon();
  }

  write(bytes: Uint8Array): void {
    const decoder = this.decoder;
    decoder.start(bytes);
    while (!decoder.done) {
      // A frame nobody waits for (a push from a socket client's CLIENT TRACKING REDIRECT to this one) is
      // dropped: throwing here would stop the front's flush of every other client.
      if (this.head === this.settles.length) return;
      const index = this.head++;
      const settle = this.settles[index];
      this.settles[index] = noop;
      settle(decoder.next(this.texts[index]));
    }
    if (this.head === this.settles.length) {
      this.settles.length = 0;
      this.texts.length = 0;
      this.head = 0;
    } else if (this.head >= 4096) {
      this.settles.splice(0, this.head);
      this.texts.splice(0, this.head);
      this.head = 0;
    }
  }

  /** Resolves once every request sent so far is answered, or the client is blocked (looked at now and then: closing only). */
  async whenIdle(): Promise<void> {
    while (this.pending !== 0 && this.client.blocking !== 'blocked' && !this.destroyed) await new Promise((resolve) => setTimeout(resolve, 2));
  }

  end(done: () => void): void {
    done();
  }

  /** Closes the connection (its own close, the front's, or CLIENT KILL); requests still unanswered fail. */
  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.front.disconnect(this.client);
    const settles = this.settles.slice(this.head);
    this.settles = [];
    this.texts = [];
    this.head = 0;
    for (const settle of settles) settle(new PoolError(`${this.closedMessage} before the command was answered`));
  }
}

function noop(): void {}
