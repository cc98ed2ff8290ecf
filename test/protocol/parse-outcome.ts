/**
 * What a RequestParser makes of some input, in a form tests compare with `toEqual`: the commands it
 * returned (arguments as latin1 text, so every byte shows), the protocol error if any, and whether it
 * ended idle (between commands, nothing buffered) or waiting for more bytes.
 */
import { RequestParser, type RequestParserLimits } from '../../src/protocol/request-parser.js';

export interface ParseOutcome {
  commands: string[][];
  error: string | undefined;
  idle: boolean;
}

export interface ParseOptions {
  limits?: Partial<RequestParserLimits>;
  authenticated?: boolean;
  /** Feed every chunk before pulling any command (the parser then queues chunks) instead of draining after each. */
  feedAllFirst?: boolean;
}

export function latin1(text: string): Buffer {
  return Buffer.from(text, 'latin1');
}

export function parseChunks(chunks: readonly Buffer[], options: ParseOptions = {}): ParseOutcome {
  const parser = new RequestParser(options.limits);
  parser.authenticated = options.authenticated ?? true;
  const commands: string[][] = [];
  const drain = (): void => {
    for (let argv = parser.next(); argv !== undefined; argv = parser.next()) {
      commands.push(argv.map((argument) => argument.toString('latin1')));
    }
  };
  for (const chunk of chunks) {
    parser.feed(chunk);
    if (options.feedAllFirst !== true) drain();
  }
  drain();
  return { commands, error: parser.error?.message, idle: parser.idle };
}

export function parseBytes(bytes: Buffer, options: ParseOptions = {}): ParseOutcome {
  return parseChunks([bytes], options);
}

/** The same bytes fed one byte per chunk: the slowest path through every carry. */
export function parseByteByByte(bytes: Buffer, options: ParseOptions = {}): ParseOutcome {
  const chunks: Buffer[] = [];
  for (let i = 0; i < bytes.length; i++) chunks.push(bytes.subarray(i, i + 1));
  return parseChunks(chunks, options);
}

/** A RESP multibulk frame of the given arguments. */
export function multibulk(...args: (string | Buffer)[]): Buffer {
  const parts: Buffer[] = [latin1(`*${args.length}\r\n`)];
  for (const arg of args) {
    const bytes = typeof arg === 'string' ? latin1(arg) : arg;
    parts.push(latin1(`$${bytes.length}\r\n`), bytes, latin1('\r\n'));
  }
  return Buffer.concat(parts);
}
