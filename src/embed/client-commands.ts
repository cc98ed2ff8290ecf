/**
 * The typed API called one command at a time, over some connection: the pool's own (shared by every
 * caller on the thread), a dedicated one from pool.client(), or an attached thread's.
 */
import { CommandMethods, toArg, type Arg, type Convert } from './commands.js';
import { Multi, Pipeline } from './batch.js';
import type { CommandConnection } from './in-process-connection.js';
import { PoolError } from './reply-error.js';

export abstract class Commands extends CommandMethods<'call'> {
  /** The connection to send on; throws PoolError once closed. */
  protected abstract connection(): CommandConnection;

  protected run<T>(argv: Arg[], text: boolean, convert?: Convert<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const args = argv.map(toArg);
      this.connection().send(args, text, (reply) => {
        if (reply instanceof Error) reject(reply);
        else resolve(convert === undefined ? (reply as T) : convert(reply));
      });
    });
  }

  protected fail(error: PoolError): Promise<never> {
    return Promise.reject(error);
  }

  /** Commands queued and sent together by exec(); see batch.ts. */
  pipeline(): Pipeline {
    return new Pipeline(() => this.connection(), this.dedicated);
  }

  /** A MULTI … EXEC transaction queued and sent together by exec(); see batch.ts. */
  multi(): Multi {
    return new Multi(() => this.connection(), this.dedicated);
  }
}
