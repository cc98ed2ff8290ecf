/** The shared-memory transport between the front and shard workers: rings, doorbells, channels. */
export { RingConsumer, RingProducer, createRingBuffer, frameBytes, maxFrameLength } from './byte-ring.js';
export {
  FrontChannel,
  WorkerChannel,
  type ChannelDescription,
  type FrontChannelOptions,
  type FrontChannelStats,
  type ReplyHandler,
  type WorkResult,
  type WorkerChannelOptions,
  type WorkerChannelStats,
} from './channel.js';
export { TransportError, type TransportErrorCode } from './errors.js';
