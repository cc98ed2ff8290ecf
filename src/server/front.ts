/**
 * The front: owns every socket (Node cannot hand one to a worker), parses requests, answers connection
 * commands itself, and routes keyed commands to the shard that owns their hash slot. Replies go back in
 * request order per client, whichever shard or the front produced them: each command takes a slot in
 * its client's reply queue when it is parsed, and the queue is written out as far as it is complete.
 *
 * The front never blocks: shard work is handed over through the shard pool's rings, and replies arrive
 * as event-loop callbacks.
 *
 * A command whose keys live on more than one shard runs as a transaction over those shards (see
 * multi-shard.ts): atomic and isolated, as one Redis would run it.
 */
import { createServer, type Server, type Socket } from 'node:net';
import type { Logger } from 'pino';
import { SLOT_COUNT, keySlot } from '../cluster/slot.js';
import { CommandTable, arityMatches, keyPositions, type CommandSpec } from '../commands/table.js';
import { argText } from '../commands/context.js';
import { unknownCommand, wrongArity } from '../protocol/errors.js';
import { RequestParser } from '../protocol/request-parser.js';
import { ReplyWriter } from '../protocol/reply-writer.js';
import type { Config } from '../config/config.js';
import { admitConnection } from './admission.js';
import { connectionCommands, type ServerFacts } from './connection-commands.js';
import { ShardScheduler, multiShardBody } from './multi-shard.js';
import type { ShardPool } from './shard-pool.js';

const ERR_CROSS_SHARD =
  "ERR this command's keys live on different shards, and sabre does not run it across shards yet; use {hash tags} to keep them together, or --shards 1";

/** One connected client: its parser, its state, and its reply queue. */
export class Client {
  readonly id: number;
  readonly parser = new RequestParser();
  readonly writer = new ReplyWriter();
  db = 0;
  name = '';
  /** Replies not yet written, in request order; undefined marks one still being computed. */
  private readonly pending: (Uint8Array | undefined)[] = [];
  private pendingHead = 0;
  closing = false;
  /** Multi-shard transactions of this client not yet started; its later commands wait behind them. */
  waitingTransactions = 0;
  private readonly deferred: (() => void)[] = [];

  constructor(
    id: number,
    readonly socket: Socket,
  ) {
    this.id = id;
  }

  get protocol(): 2 | 3 {
    return this.writer.protocol;
  }

  /** Reserves the next reply position. */
  reserve(): number {
    this.pending.push(undefined);
    return this.pending.length - 1;
  }

  /** Fills a reserved position and writes out every reply now complete at the head of the queue. */
  fill(position: number, reply: Uint8Array): void {
    this.pending[position] = reply;
    let head = this.pendingHead;
    if (head !== position) return;
    const socket = this.socket;
    socket.cork();
    while (head < this.pending.length && this.pending[head] !== undefined) {
      if (!socket.destroyed) socket.write(this.pending[head]!);
      head++;
    }
    socket.uncork();
    if (head === this.pending.length) {
      this.pending.length = 0;
      this.pendingHead = 0;
      if (this.closing) socket.end();
    } else this.pendingHead = head;
  }

  /** Runs `action` now, or once this client's waiting transactions have started. */
  inOrder(action: () => void): void {
    if (this.waitingTransactions === 0 && this.deferred.length === 0) action();
    else this.deferred.push(action);
  }

  /** Runs deferred commands until one of them starts waiting for a transaction again. */
  releaseDeferred(): void {
    while (this.waitingTransactions === 0 && this.deferred.length > 0) this.deferred.shift()!();
  }

  /** Whether every reserved reply has been written. */
  get drained(): boolean {
    return this.pending.length === 0;
  }
}

export interface FrontOptions {
  port: number;
  host: string;
  logger: Logger;
  /** The live configuration: CONFIG, rename-command, admission of new connections. */
  config: Config;
  /** What CONFIG RESETSTAT clears. */
  resetStats?: () => void;
}

export class Front {
  private readonly server: Server;
  private readonly table = new CommandTable();
  private readonly clients = new Set<Client>();
  private readonly slotToShard: Uint8Array;
  private readonly scheduler: ShardScheduler;
  private nextClientId = 1;

  constructor(
    private readonly pool: ShardPool,
    private readonly options: FrontOptions,
  ) {
    // Contiguous slot ranges per shard, as Redis Cluster hands out slots to nodes.
    this.slotToShard = new Uint8Array(SLOT_COUNT);
    for (let slot = 0; slot < SLOT_COUNT; slot++) this.slotToShard[slot] = Math.floor((slot * pool.size) / SLOT_COUNT);
    this.scheduler = new ShardScheduler(pool);
    for (const [from, to] of options.config.renames) this.table.rename(from, to);
    this.server = createServer((socket) => this.accept(socket));
  }

  listen(): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.options.port, this.options.host, () => {
        const address = this.server.address();
        this.port = typeof address === 'object' && address !== null ? address.port : this.options.port;
        resolve(this.port);
      });
    });
  }

  close(): Promise<void> {
    for (const client of this.clients) client.socket.destroy();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private readonly startedAt = Date.now();
  private port = 0;

  private facts(): ServerFacts {
    return { port: this.port, shards: this.pool.size, startedAt: this.startedAt, connectedClients: this.clients.size };
  }

  private accept(socket: Socket): void {
    if (!admitConnection(socket, this.options.config, this.clients.size, this.options.logger)) return;
    socket.setNoDelay(true);
    const client = new Client(this.nextClientId++, socket);
    this.clients.add(client);
    socket.on('data', (chunk: Buffer) => this.receive(client, chunk));
    socket.on('close', () => this.clients.delete(client));
    socket.on('error', (error) => this.options.logger.debug({ client: client.id, error: error.message }, 'client socket error'));
  }

  private receive(client: Client, chunk: Buffer): void {
    if (client.closing) return;
    const parser = client.parser;
    parser.feed(chunk);
    for (let argv = parser.next(); argv !== undefined; argv = parser.next()) {
      this.dispatch(client, argv);
      if (client.closing) return;
    }
    const error = parser.error;
    if (error !== undefined) {
      // Redis answers a protocol error, then closes once the answer (and every earlier one) is out.
      // fill() ends the socket once a closing client's queue is written out.
      client.closing = true;
      if (error.errorReply !== null) {
        client.writer.error(error.errorReply);
        client.fill(client.reserve(), client.writer.take());
      } else if (client.drained) client.socket.end();
    }
  }

  private dispatch(client: Client, argv: Buffer[]): void {
    const position = client.reserve();
    client.inOrder(() => this.execute(client, argv, position));
  }

  private execute(client: Client, argv: Buffer[], position: number): void {
    const writer = client.writer;
    const spec = this.table.get(argText(argv[0]));
    if (spec === undefined) {
      writer.error(unknownCommand(argv));
      return client.fill(position, writer.take());
    }
    if (!arityMatches(spec, argv.length)) {
      writer.error(wrongArity(spec.name));
      return client.fill(position, writer.take());
    }
    const local = connectionCommands.get(spec.name);
    if (local !== undefined) {
      local({ client, writer, argv, table: this.table, server: this.facts(), config: this.options.config, resetStats: this.options.resetStats });
      return client.fill(position, writer.take());
    }
    const shard = this.shardFor(spec, argv);
    if (shard >= 0) {
      const { db, protocol } = client;
      this.scheduler.sendOrHold(shard, () => this.pool.send(shard, db, protocol, argv, (reply) => client.fill(position, Buffer.from(reply))));
      return;
    }
    if ((spec.name === 'mset' || spec.name === 'msetnx') && argv.length % 2 === 0) {
      writer.error(wrongArity(spec.name));
      return client.fill(position, writer.take());
    }
    const body = multiShardBody(spec.name, argv, (key) => this.slotToShard[keySlot(key)]);
    if (body === undefined) {
      writer.error(ERR_CROSS_SHARD);
      return client.fill(position, writer.take());
    }
    this.scheduler.submit(client, body.shards, body.run, (reply) => client.fill(position, reply));
  }

  /** The shard every key of the command lives on (shard 0 for keyless ones), or -1 when they are spread. */
  private shardFor(spec: CommandSpec, argv: readonly Buffer[]): number {
    const positions = keyPositions(spec, argv.length);
    if (positions.length === 0) return 0;
    const first = this.slotToShard[keySlot(argv[positions[0]])];
    for (let i = 1; i < positions.length; i++) {
      if (this.slotToShard[keySlot(argv[positions[i]])] !== first) return -1;
    }
    return first;
  }
}
