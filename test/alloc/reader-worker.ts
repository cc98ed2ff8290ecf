/** Worker side of the reader tests: attaches to the owner's arena and checks what it reads. */
import { parentPort, workerData } from 'node:worker_threads';
import { ArenaReader, CLASS_SIZES, PAGE_SIZE, type ArenaDescription } from '../../native-free-alloc/src/index.js';
import { M_ACK, M_DONE, M_EPOCH, M_HANDLE, M_ID, M_SEQ, M_SIZE, M_STARTED, type ObjectRecord } from './mailbox.js';
import { firstMismatch } from './patterns.js';

interface Task {
  mode: 'follow' | 'snapshot';
  description: ArenaDescription;
  mailbox: Int32Array;
  objects?: ObjectRecord[];
  passes?: number;
}

const task = workerData as Task;
const reader = ArenaReader.attach(task.description);
const errors: string[] = [];

function statsAreConsistent(): void {
  const s = reader.stats();
  const slabBytes = s.classes.reduce((sum, c, i) => sum + c.liveSlots * CLASS_SIZES[i], 0);
  if (s.allocatedBytes !== slabBytes + s.runPages * PAGE_SIZE + s.dedicatedBytes) {
    errors.push(`torn stats: allocated ${s.allocatedBytes} != slabs ${slabBytes} + runs ${s.runPages * PAGE_SIZE} + dedicated ${s.dedicatedBytes}`);
  }
  if (s.activeBytes > s.committedBytes) errors.push(`torn stats: active ${s.activeBytes} > committed ${s.committedBytes}`);
}

function follow(): { verified: number; statsReads: number; maxSegments: number } {
  const mailbox = task.mailbox;
  const handles = new Uint32Array(mailbox.buffer);
  let seen = 0;
  let verified = 0;
  let statsReads = 0;
  let maxSegments = 0;
  for (;;) {
    if (Atomics.load(mailbox, M_DONE) === 1) break;
    const seq = Atomics.load(mailbox, M_SEQ);
    if (seq === seen) {
      // While waiting, keep reading stats as the owner churns: a torn read would break the equation.
      statsAreConsistent();
      statsReads++;
      Atomics.wait(mailbox, M_SEQ, seen, 1);
      continue;
    }
    const handle = handles[M_HANDLE];
    const size = mailbox[M_SIZE];
    const id = mailbox[M_ID];
    const bad = firstMismatch(reader.bytes(handle, size), size, id);
    if (bad >= 0) errors.push(`object ${id} (handle ${handle}, ${size} bytes) differs at byte ${bad}`);
    verified++;
    maxSegments = Math.max(maxSegments, reader.segmentTable().length);
    seen = seq;
    Atomics.store(mailbox, M_ACK, seq);
    Atomics.notify(mailbox, M_ACK);
  }
  return { verified, statsReads, maxSegments };
}

function snapshot(): { verified: number; passes: number } {
  const mailbox = task.mailbox;
  const epoch = Atomics.load(mailbox, M_EPOCH);
  const objects = task.objects ?? [];
  let verified = 0;
  const scratch = new Uint8Array(4 << 20);
  for (let pass = 0; pass < (task.passes ?? 3); pass++) {
    for (const o of objects) {
      reader.readSnapshot(epoch, o.handle, 0, o.size, scratch);
      const bad = firstMismatch(scratch, o.size, o.id);
      if (bad >= 0) errors.push(`pass ${pass}: object ${o.id} (${o.size} bytes) differs from the snapshot at byte ${bad}`);
      verified++;
    }
    statsAreConsistent();
  }
  Atomics.store(mailbox, M_DONE, 1);
  return { verified, passes: task.passes ?? 3 };
}

Atomics.store(task.mailbox, M_STARTED, 1);
Atomics.notify(task.mailbox, M_STARTED);
const result = task.mode === 'follow' ? follow() : snapshot();
reader.close();
parentPort!.postMessage({ ...result, errors: errors.slice(0, 20), errorCount: errors.length });
