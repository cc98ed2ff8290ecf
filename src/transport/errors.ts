/**
 * Why a transport call was refused. A full ring is not an error (it is reported by a return value, so
 * the caller can queue and retry); these are the conditions that retrying cannot fix.
 */
export type TransportErrorCode =
  | 'ETOOLARGE' // the frame is larger than the ring could ever hold
  | 'ECLOSED' // the channel is closed (or closing) for sending
  | 'EINVALID' // a bad argument: ring capacity, buffer, frame length
  | 'ESTATE'; // the call does not fit the object's state (attached twice, wrong thread, no reservation)

export class TransportError extends Error {
  constructor(
    readonly code: TransportErrorCode,
    message: string,
  ) {
    super(`${code}: ${message}`);
    this.name = 'TransportError';
  }
}
