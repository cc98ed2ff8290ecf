/**
 * The errors an embedded pool throws: Redis's error replies as `ReplyError` (with Redis's code and
 * message, as a socket client would read them), and `PoolError` for misuse of the pool itself (a call
 * after close, a command embedded mode refuses, a value msgpackr cannot encode).
 */

/** An error reply from the server: `code` is its first word ('ERR', 'WRONGTYPE', 'EXECABORT', …). */
export class ReplyError extends Error {
  readonly code: string;

  constructor(message: string) {
    super(message);
    this.name = 'ReplyError';
    const space = message.indexOf(' ');
    this.code = space < 0 ? message : message.slice(0, space);
  }
}

/** The pool was used in a way it cannot serve; nothing was sent to the shards. */
export class PoolError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PoolError';
  }
}
