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
import { CommandTable, arityMatches, type CommandSpec } from '../commands/table.js';
import { unknownCommand, wrongArity } from '../protocol/errors.js';
import { Client, type OutputScheduler } from './client.js';
import { connectionCommands, type ServerFacts } from './connection-commands.js';
import { ShardScheduler, multiShardBody } from './multi-shard.js';
import type { ShardPool } from './shard-pool.js';

const ERR_CROSS_SHARD =
  "ERR this command's keys live on different shards, and sabre does not run it across shards yet; use {hash tags} to keep them together, or --shards 1";

export interface FrontOptions {
  port: number;
  host: string;
  logger: Logger;
}

export class Front implements OutputScheduler {
  private readonly server: Server;
  /** Clients with output to write at the end of this task (see client.ts). */
  private readonly dirty: Client[] = [];
  private flushScheduled = false;
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

  markDirty(client: Client): void {
    if (client.dirty) return;
    client.dirty = true;
    this.dirty.push(client);
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    queueMicrotask(this.flushDirty);
  }

  private readonly flushDirty = (): void => {
    this.flushScheduled = false;
    const dirty = this.dirty;
    for (let i = 0; i < dirty.length; i++) dirty[i].flush();
    dirty.length = 0;
  };

  private accept(socket: Socket): void {
    socket.setNoDelay(true);
    const client = new Client(this.nextClientId++, socket, this);
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
      } else this.markDirty(client);
    }
  }

  private dispatch(client: Client, argv: Buffer[]): void {
    const position = client.reserve();
    // Only a client waiting behind its own cross-shard command needs its commands deferred (a closure each).
    if (client.mayRunNow) this.execute(client, argv, position);
    else client.inOrder(() => this.execute(client, argv, position));
  }

  private execute(client: Client, argv: Buffer[], position: number): void {
    const writer = client.writer;
    const spec = this.table.lookup(argv[0]);
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
      local({ client, writer, argv, table: this.table, server: this.facts() });
      return client.fill(position, writer.take());
    }
    const shard = this.shardFor(spec, argv.length, argv);
    if (shard >= 0) {
      const { db, protocol } = client;
      const command = spec.index;
      if (!this.scheduler.isHeld(shard)) this.pool.send(shard, db, protocol, command, argv, client, position);
      else this.scheduler.sendOrHold(shard, () => this.pool.send(shard, db, protocol, command, argv, client, position));
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
  private shardFor(spec: CommandSpec, argc: number, argv: readonly Buffer[]): number {
    if (spec.firstKey === 0 || spec.firstKey >= argc) return 0;
    const last = spec.lastKey >= 0 ? spec.lastKey : argc + spec.lastKey;
    const slotToShard = this.slotToShard;
    const first = slotToShard[keySlot(argv[spec.firstKey])];
    for (let i = spec.firstKey + spec.keyStep; i <= last && i < argc; i += spec.keyStep) {
      if (slotToShard[keySlot(argv[i])] !== first) return -1;
    }
    return first;
  }
}
