/**
 * A reader: another thread's view of an arena it does not own. It reads data, statistics, page
 * occupancy and snapshot pages; it never allocates or frees.
 *
 * A SharedArrayBuffer can only reach another thread through a message, so the owner posts every segment
 * it adds or drops to each reader's port, and bumps a version word in the control buffer after posting.
 * The reader compares that word with the version it has applied whenever it resolves a handle, and if it
 * moved, drains its port synchronously (receiveMessageOnPort). A handle read from shared memory therefore
 * always resolves against the current segment table, even when a segment index was dropped and reused.
 * Idle readers also apply messages from their event loop, so dropped segments are let go of (and their
 * memory can return to the OS) without waiting for the next access.
 */
import { receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import { C_SEGMENT_VERSION } from './control.js';
import type { ArenaDescription, SegmentMessage } from './arena.js';
import { AllocatorError } from './errors.js';
import { ArenaView } from './view.js';

export class ArenaReader extends ArenaView {
  private readonly port: MessagePort;
  private appliedVersion: number;
  private closed = false;

  private constructor(description: ArenaDescription) {
    super(description.control);
    for (const segment of description.segments) this.installSegment(segment);
    this.appliedVersion = description.version;
    this.port = description.port;
    this.port.on('message', (message: SegmentMessage) => this.apply(message));
    this.port.unref();
  }

  /** Attaches to an arena from the description its owner made with describe(). */
  static attach(description: ArenaDescription): ArenaReader {
    return new ArenaReader(description);
  }

  private apply(message: SegmentMessage): void {
    if (message.op === 'add') this.installSegment(message.segment);
    else this.removeSegment(message.index);
    this.appliedVersion++;
  }

  /** Applies every segment change the owner has announced so far. */
  refresh(): void {
    if (this.closed) throw new AllocatorError('ESTATE', 'this arena reader is closed');
    const target = Atomics.load(this.controlViews.words, C_SEGMENT_VERSION);
    while (this.appliedVersion !== target) {
      const received = receiveMessageOnPort(this.port);
      if (received === undefined) break;
      this.apply(received.message as SegmentMessage);
    }
  }

  protected override segmentBytes(index: number): Uint8Array {
    if (this.appliedVersion !== Atomics.load(this.controlViews.words, C_SEGMENT_VERSION) || this.closed) this.refresh();
    return super.segmentBytes(index);
  }

  protected missingSegment(): void {
    this.refresh();
  }

  /** Detaches: the port closes and every segment is let go of. The owner is unaffected. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.port.close();
    for (let index = 1; index < this.u8.length; index++) this.removeSegment(index);
  }
}
