/**
 * The Pub/Sub registry: which clients listen to which channels, patterns and shard channels, and the
 * delivery of a published message to them. It lives on the front (main thread), which owns every socket;
 * anything on the front may publish through it (PUBLISH, SPUBLISH, and later keyspace notifications
 * relayed from the shards).
 *
 * Channel names are binary: maps are keyed by the name's latin1 string, one character per byte, so two
 * names are the same key exactly when their bytes are.
 *
 * Invariants: a client is in a channel's (pattern's, shard channel's) subscriber set exactly when that
 * name is in its own ClientSubscriptions; a name with no subscriber left has no entry; a client with no
 * subscription left has `pubsub === undefined`, which is what marks it as subscribed (RESP2's restricted
 * mode, the pubsub output-buffer class, CLIENT LIST's P flag).
 *
 * A message is encoded once per protocol per publish, however many clients receive it, and goes out
 * through Client.push, outside the reply order (see client.ts for how it keeps its place).
 */
import { GlobPattern } from '../commands/glob.js';
import { ReplyWriter } from '../protocol/reply-writer.js';
import type { Client } from './client.js';

/** One client's subscriptions, by name key (latin1), each with the name's bytes, in subscription order. */
export class ClientSubscriptions {
  readonly channels = new Map<string, Buffer>();
  readonly patterns = new Map<string, Buffer>();
  readonly shardChannels = new Map<string, Buffer>();

  /** Redis's clientSubscriptionsCount: what SUBSCRIBE and PSUBSCRIBE confirmations count. */
  get count(): number {
    return this.channels.size + this.patterns.size;
  }

  get total(): number {
    return this.channels.size + this.patterns.size + this.shardChannels.size;
  }
}

export type SubscriptionKind = 'channel' | 'pattern' | 'shard';

interface PatternEntry {
  readonly bytes: Buffer;
  readonly glob: GlobPattern;
  readonly subscribers: Set<Client>;
}

const keyOf = (name: Buffer): string => name.toString('latin1');

/** Encodes a message frame for each protocol at most once, on first need. */
class FrameCache {
  private resp2: Buffer | undefined;
  private resp3: Buffer | undefined;

  constructor(private readonly parts: readonly (string | Buffer)[]) {}

  for(protocol: 2 | 3): Buffer {
    if (protocol === 2) return (this.resp2 ??= this.encode(2));
    return (this.resp3 ??= this.encode(3));
  }

  private encode(protocol: 2 | 3): Buffer {
    const writer = new ReplyWriter(64 + this.parts.reduce((sum, part) => sum + part.length, 0));
    writer.protocol = protocol;
    writer.pushHeader(this.parts.length);
    for (const part of this.parts) writer.bulk(part);
    return writer.take();
  }
}

export class PubSub {
  private readonly channels = new Map<string, Set<Client>>();
  private readonly patterns = new Map<string, PatternEntry>();
  private readonly shardChannels = new Map<string, Set<Client>>();

  /** Adds a subscription; false when the client already had it. */
  subscribe(client: Client, kind: SubscriptionKind, name: Buffer): boolean {
    const own = (client.pubsub ??= new ClientSubscriptions());
    const mine = this.ownMap(own, kind);
    const key = keyOf(name);
    if (mine.has(key)) return false;
    mine.set(key, name);
    if (kind === 'pattern') {
      let entry = this.patterns.get(key);
      if (entry === undefined) {
        entry = { bytes: name, glob: new GlobPattern(name), subscribers: new Set() };
        this.patterns.set(key, entry);
      }
      entry.subscribers.add(client);
    } else {
      const registry = kind === 'channel' ? this.channels : this.shardChannels;
      let subscribers = registry.get(key);
      if (subscribers === undefined) registry.set(key, (subscribers = new Set()));
      subscribers.add(client);
    }
    return true;
  }

  /** Removes a subscription; false when the client did not have it. */
  unsubscribe(client: Client, kind: SubscriptionKind, name: Buffer): boolean {
    const own = client.pubsub;
    if (own === undefined) return false;
    const key = keyOf(name);
    if (!this.ownMap(own, kind).delete(key)) return false;
    if (kind === 'pattern') {
      const entry = this.patterns.get(key)!;
      entry.subscribers.delete(client);
      if (entry.subscribers.size === 0) this.patterns.delete(key);
    } else {
      const registry = kind === 'channel' ? this.channels : this.shardChannels;
      const subscribers = registry.get(key)!;
      subscribers.delete(client);
      if (subscribers.size === 0) registry.delete(key);
    }
    if (own.total === 0) client.pubsub = undefined;
    return true;
  }

  /** The client's subscriptions of one kind, in subscription order (UNSUBSCRIBE with no argument). */
  subscribed(client: Client, kind: SubscriptionKind): Buffer[] {
    const own = client.pubsub;
    return own === undefined ? [] : [...this.ownMap(own, kind).values()];
  }

  /** Drops every subscription of a client (disconnect, RESET), telling it nothing. */
  removeClient(client: Client): void {
    for (const kind of ['channel', 'pattern', 'shard'] as const) {
      for (const name of this.subscribed(client, kind)) this.unsubscribe(client, kind, name);
    }
  }

  /**
   * Delivers `message` to the channel's subscribers and to those of every pattern it matches; returns
   * how many deliveries it made (a client subscribed both ways receives it, and counts, twice, as in Redis).
   */
  publish(channel: Buffer, message: Buffer): number {
    let receivers = 0;
    const subscribers = this.channels.get(keyOf(channel));
    if (subscribers !== undefined) {
      const frames = new FrameCache(['message', channel, message]);
      for (const client of subscribers) client.push(frames.for(client.protocol));
      receivers += subscribers.size;
    }
    for (const entry of this.patterns.values()) {
      if (!entry.glob.matches(channel)) continue;
      const frames = new FrameCache(['pmessage', entry.bytes, channel, message]);
      for (const client of entry.subscribers) client.push(frames.for(client.protocol));
      receivers += entry.subscribers.size;
    }
    return receivers;
  }

  /** SPUBLISH: delivers to the shard channel's subscribers only. */
  publishShard(channel: Buffer, message: Buffer): number {
    const subscribers = this.shardChannels.get(keyOf(channel));
    if (subscribers === undefined) return 0;
    const frames = new FrameCache(['smessage', channel, message]);
    for (const client of subscribers) client.push(frames.for(client.protocol));
    return subscribers.size;
  }

  /** Channels (or shard channels) with at least one subscriber, those matching `pattern` when given. */
  activeChannels(shard: boolean, pattern: Buffer | undefined): Buffer[] {
    const glob = pattern === undefined ? undefined : new GlobPattern(pattern);
    const names: Buffer[] = [];
    for (const key of (shard ? this.shardChannels : this.channels).keys()) {
      const name = Buffer.from(key, 'latin1');
      if (glob === undefined || glob.matches(name)) names.push(name);
    }
    return names;
  }

  /** How many clients subscribe to the channel (or shard channel), patterns not counted. */
  subscriberCount(shard: boolean, channel: Buffer): number {
    return (shard ? this.shardChannels : this.channels).get(keyOf(channel))?.size ?? 0;
  }

  /** INFO's pubsub_channels. */
  get channelCount(): number {
    return this.channels.size;
  }

  /** PUBSUB NUMPAT and INFO's pubsub_patterns: distinct patterns, as Redis 7.0 counts them. */
  get patternCount(): number {
    return this.patterns.size;
  }

  /** INFO's pubsubshard_channels. */
  get shardChannelCount(): number {
    return this.shardChannels.size;
  }

  private ownMap(own: ClientSubscriptions, kind: SubscriptionKind): Map<string, Buffer> {
    return kind === 'channel' ? own.channels : kind === 'pattern' ? own.patterns : own.shardChannels;
  }
}
