/**
 * pool.pipeline() and pool.multi(): commands queued with the typed methods, then sent by exec() in one
 * synchronous run, so the front hands each shard the whole batch in one publication (its sends are
 * committed once per event-loop turn) and the batch costs one cross-thread hand-off, not one per command.
 *
 * A pipeline's commands run in order but others' may run between them; exec() answers every reply, an
 * error reply as a ReplyError in its place. multi() wraps them in MULTI … EXEC, with the server's
 * atomicity: exec() answers EXEC's replies the same way, null when a WATCHed key changed, and rejects
 * with EXECABORT's ReplyError when a command was refused while queued.
 */
import { CommandMethods, asText, toArg, type Arg, type Convert } from './commands.js';
import type { CommandConnection } from './in-process-connection.js';
import type { Reply } from './reply-decoder.js';
import { PoolError, ReplyError } from './reply-error.js';

interface Queued {
  argv: Buffer[];
  text: boolean;
  convert: Convert<unknown> | undefined;
}

abstract class Batch extends CommandMethods<'batch'> {
  protected readonly queued: Queued[] = [];
  private sent = false;

  constructor(
    private readonly open: () => CommandConnection,
    protected readonly dedicated: boolean,
  ) {
    super();
  }

  /** Commands queued so far. */
  get length(): number {
    return this.queued.length;
  }

  protected run<T>(argv: Arg[], text: boolean, convert?: Convert<T>): this {
    if (this.sent) throw new PoolError('this batch was sent already: start a new one');
    this.queued.push({ argv: argv.map(toArg), text, convert });
    return this;
  }

  protected fail(error: PoolError): never {
    throw error;
  }

  /** The connection to send on, the batch marked sent; throws PoolError when closed or sent before. */
  protected connection(): CommandConnection {
    if (this.sent) throw new PoolError('this batch was sent already: start a new one');
    this.sent = true;
    return this.open();
  }
}

/** A queued command's result from its reply: an error reply stays a ReplyError value. */
function result(queued: Queued, reply: Reply): unknown {
  if (reply instanceof ReplyError || queued.convert === undefined) return reply;
  return queued.convert(reply);
}

export class Pipeline extends Batch {
  exec(): Promise<unknown[]> {
    return new Promise((resolve, reject) => {
      const queued = this.queued;
      const connection = this.connection();
      const results = new Array<unknown>(queued.length);
      let left = queued.length;
      let failure: PoolError | undefined;
      if (left === 0) return resolve(results);
      for (let i = 0; i < queued.length; i++) {
        connection.send(queued[i].argv, queued[i].text, (reply) => {
          if (reply instanceof PoolError) failure = reply;
          else results[i] = result(queued[i], reply);
          if (--left === 0) {
            if (failure === undefined) resolve(results);
            else reject(failure);
          }
        });
      }
    });
  }
}

const MULTI = [Buffer.from('MULTI')];
const EXEC = [Buffer.from('EXEC')];

export class Multi extends Batch {
  exec(): Promise<unknown[] | null> {
    return new Promise((resolve, reject) => {
      const queued = this.queued;
      const connection = this.connection();
      let failure: PoolError | undefined;
      const watchFailure = (reply: Reply | PoolError) => {
        if (reply instanceof PoolError) failure = reply;
      };
      connection.send(MULTI, true, watchFailure);
      // Queue-time refusals come back as errors here and as EXECABORT from EXEC.
      for (const command of queued) connection.send(command.argv, false, watchFailure);
      connection.send(EXEC, false, (reply) => {
        if (reply instanceof PoolError) return reject(reply);
        if (failure !== undefined) return reject(failure);
        if (reply instanceof ReplyError) return reject(reply);
        if (reply === null) return resolve(null);
        const replies = reply as Reply[];
        resolve(replies.map((item, i) => result(queued[i], queued[i].text ? asText(item) : item)));
      });
    });
  }
}
