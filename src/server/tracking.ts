/**
 * Server-assisted client-side caching (CLIENT TRACKING), as Redis 7.0 does it.
 *
 * Default mode: every key a tracking client reads (read-only commands) is remembered against the
 * client; the first change of the key sends the client one invalidation and forgets the pair. BCAST
 * mode: nothing is remembered; every change of a key under one of the client's prefixes is sent, the
 * keys of one batch of shard replies in one message (sent when the task that delivered them ends), as
 * Redis sends them before it sleeps.
 *
 * Changes come from the shards: while any client tracks, every shard reports each changed key with the
 * command's reply (KeyspaceSignals.KEY_CHANGED), and flushes are reported once they have run everywhere.
 * Invalidations go to the client itself over RESP3 (push `invalidate`), or to its REDIRECT client:
 * RESP3 pushes, or RESP2 messages on `__redis__:invalidate` to a client subscribed to that channel.
 */
import type { Client } from './client.js';
import { ReplyWriter } from '../protocol/reply-writer.js';

export const INVALIDATE_CHANNEL = '__redis__:invalidate';

/** A client's CLIENT TRACKING settings. */
export interface TrackingOptions {
  bcast: boolean;
  optin: boolean;
  optout: boolean;
  noloop: boolean;
  /** The client invalidations go to; 0 for the client itself. */
  redirect: number;
  prefixes: Buffer[];
}

/** A tracking client's state: its options, and CLIENT CACHING's word for its next command. */
export interface TrackingState extends TrackingOptions {
  caching: 'yes' | 'no' | undefined;
}

export class Tracking {
  /** Default mode: key (latin1) → the clients that read it since its last invalidation. */
  private readonly keys = new Map<string, Set<Client>>();
  /** BCAST mode: prefix (latin1) → its clients. */
  private readonly prefixes = new Map<string, Set<Client>>();
  /** BCAST keys of this batch, per client, sent together when the task ends. */
  private readonly pending = new Map<Client, Buffer[]>();
  private flushScheduled = false;
  private readonly tracking = new Set<Client>();
  private readonly writer = new ReplyWriter();

  constructor(
    private readonly clientById: (id: number) => Client | undefined,
    /** Told when the first client starts tracking and when the last one stops. */
    private readonly onActive: (active: boolean) => void,
  ) {}

  get active(): boolean {
    return this.tracking.size > 0;
  }

  get clients(): number {
    return this.tracking.size;
  }

  /** INFO's tracking_total_keys: keys remembered for some client. */
  get totalKeys(): number {
    return this.keys.size;
  }

  /** INFO's tracking_total_items: key and client pairs remembered. */
  get totalItems(): number {
    let items = 0;
    for (const clients of this.keys.values()) items += clients.size;
    return items;
  }

  get totalPrefixes(): number {
    return this.prefixes.size;
  }

  enable(client: Client, options: TrackingOptions): void {
    const previous = client.tracking;
    client.tracking = { ...options, prefixes: [...(previous?.prefixes ?? []), ...options.prefixes], caching: undefined };
    for (const prefix of options.prefixes) {
      const name = prefix.toString('latin1');
      const clients = this.prefixes.get(name) ?? new Set<Client>();
      clients.add(client);
      this.prefixes.set(name, clients);
    }
    this.tracking.add(client);
    if (this.tracking.size === 1 && previous === undefined) this.onActive(true);
  }

  /** CLIENT TRACKING OFF, RESET, disconnection. */
  disable(client: Client): void {
    const state = client.tracking;
    if (state === undefined) return;
    client.tracking = undefined;
    for (const prefix of state.prefixes) {
      const name = prefix.toString('latin1');
      const clients = this.prefixes.get(name);
      clients?.delete(client);
      if (clients?.size === 0) this.prefixes.delete(name);
    }
    // Keys the client read stay in the table, as in Redis: the next change of each finds it gone.
    this.pending.delete(client);
    this.tracking.delete(client);
    if (this.tracking.size === 0) this.onActive(false);
  }

  /** After a read-only command of a tracking client: remember its keys, unless its mode says not to. */
  rememberKeys(client: Client, keys: readonly Buffer[]): void {
    const state = client.tracking!;
    if (state.bcast || (state.optin && state.caching !== 'yes') || (state.optout && state.caching === 'no')) return;
    for (const key of keys) {
      const name = key.toString('latin1');
      const clients = this.keys.get(name) ?? new Set<Client>();
      clients.add(client);
      this.keys.set(name, clients);
    }
  }

  /** A key changed, by the command of `by` (undefined: by the server itself, as when a key expires). */
  keyChanged(key: Buffer, by: Client | undefined): void {
    const name = key.toString('latin1');
    const readers = this.keys.get(name);
    if (readers !== undefined) {
      this.keys.delete(name);
      for (const client of readers) {
        if (client.tracking === undefined || (client.tracking.noloop && client === by)) continue;
        this.send(client, [key]);
      }
    }
    if (this.prefixes.size === 0) return;
    for (const [prefix, clients] of this.prefixes) {
      if (!name.startsWith(prefix)) continue;
      for (const client of clients) {
        if (client.tracking!.noloop && client === by) continue;
        const keys = this.pending.get(client) ?? [];
        keys.push(key);
        this.pending.set(client, keys);
      }
    }
    if (this.pending.size > 0 && !this.flushScheduled) {
      this.flushScheduled = true;
      queueMicrotask(() => this.sendPending());
    }
  }

  /** FLUSHDB or FLUSHALL ran: every tracking client drops everything (a null invalidation), as in Redis. */
  flushed(): void {
    this.keys.clear();
    for (const client of this.tracking) this.send(client, null);
  }

  private sendPending(): void {
    this.flushScheduled = false;
    for (const [client, keys] of this.pending) if (client.tracking !== undefined) this.send(client, keys);
    this.pending.clear();
  }

  /** One invalidation message: the keys, or null for "everything". */
  private send(client: Client, keys: readonly Buffer[] | null): void {
    const redirect = client.tracking?.redirect ?? 0;
    const target = redirect === 0 ? client : this.clientById(redirect);
    const writer = this.writer;
    if (target === undefined) {
      // The redirect client is gone: a RESP3 client hears about it, as Redis tells it.
      if (client.protocol !== 3) return;
      writer.protocol = 3;
      writer.pushHeader(2);
      writer.bulk('tracking-redir-broken');
      writer.integer(redirect);
      return client.push(writer.take());
    }
    if (target.protocol === 3) {
      writer.protocol = 3;
      writer.pushHeader(2);
      writer.bulk('invalidate');
    } else if (target.pubsub?.channels.has(INVALIDATE_CHANNEL) === true) {
      writer.protocol = 2;
      writer.arrayHeader(3);
      writer.bulk('message');
      writer.bulk(INVALIDATE_CHANNEL);
    } else return;
    if (keys === null) writer.nullArray();
    else writer.bulkArray(keys);
    target.push(writer.take());
  }
}
