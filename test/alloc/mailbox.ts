/**
 * A tiny shared-memory mailbox between the owner (test thread) and a worker: the owner publishes one
 * allocation at a time and waits for the worker's acknowledgement before it may free that allocation.
 */
export const M_SEQ = 0;
export const M_HANDLE = 1;
export const M_SIZE = 2;
export const M_ID = 3;
export const M_ACK = 4;
export const M_DONE = 5;
export const M_EPOCH = 6;
export const M_STARTED = 7;
export const MAILBOX_WORDS = 8;

export function createMailbox(): Int32Array {
  return new Int32Array(new SharedArrayBuffer(MAILBOX_WORDS * 4));
}

export interface ObjectRecord {
  handle: number;
  size: number;
  id: number;
}
