/**
 * SUBSCRIBE UNSUBSCRIBE PSUBSCRIBE PUNSUBSCRIBE SSUBSCRIBE SUNSUBSCRIBE PUBLISH SPUBLISH and PUBSUB
 * CHANNELS|NUMSUB|NUMPAT|SHARDCHANNELS|SHARDNUMSUB|HELP, answered by the front over its registry
 * (pubsub.ts) with Redis 7.0's replies.
 *
 * Each (un)subscription is confirmed by its own frame, `[kind, name, count]`, a push frame in RESP3.
 * The count is the client's channels plus patterns (Redis's clientSubscriptionsCount) for the first two
 * families, and its shard channels alone for the S family. An unsubscribe with nothing to drop still
 * answers one frame, with a null name. In sabre shard channels are not spread over cluster nodes (there is
 * no cluster mode yet), so, as Redis outside cluster mode, SSUBSCRIBE takes channels of any slots at once.
 */
import { argText } from '../commands/context.js';
import { subcommandSyntaxError } from '../protocol/errors.js';
import type { ReplyWriter } from '../protocol/reply-writer.js';
import type { Client } from './client.js';
import type { ConnectionHandler } from './connection-commands.js';
import type { PubSub, SubscriptionKind } from './pubsub.js';
import { container, helpLines } from './subcommands.js';

interface Family {
  readonly kind: SubscriptionKind;
  readonly subscribe: string;
  readonly unsubscribe: string;
}

const CHANNELS: Family = { kind: 'channel', subscribe: 'subscribe', unsubscribe: 'unsubscribe' };
const PATTERNS: Family = { kind: 'pattern', subscribe: 'psubscribe', unsubscribe: 'punsubscribe' };
const SHARD_CHANNELS: Family = { kind: 'shard', subscribe: 'ssubscribe', unsubscribe: 'sunsubscribe' };

function countFor(client: Client, kind: SubscriptionKind): number {
  const own = client.pubsub;
  if (own === undefined) return 0;
  return kind === 'shard' ? own.shardChannels.size : own.count;
}

function confirm(writer: ReplyWriter, action: string, name: Buffer | null, count: number): void {
  writer.pushHeader(3);
  writer.bulk(action);
  if (name === null) writer.nullBulk();
  else writer.bulk(name);
  writer.integer(count);
}

function subscribing(family: Family): ConnectionHandler {
  return ({ client, writer, argv, server }) => {
    for (let i = 1; i < argv.length; i++) {
      server.pubsub.subscribe(client, family.kind, argv[i]);
      confirm(writer, family.subscribe, argv[i], countFor(client, family.kind));
    }
  };
}

function unsubscribing(family: Family): ConnectionHandler {
  return ({ client, writer, argv, server }) => {
    const names = argv.length > 1 ? argv.slice(1) : server.pubsub.subscribed(client, family.kind);
    if (names.length === 0) return confirm(writer, family.unsubscribe, null, countFor(client, family.kind));
    for (const name of names) {
      server.pubsub.unsubscribe(client, family.kind, name);
      confirm(writer, family.unsubscribe, name, countFor(client, family.kind));
    }
  };
}

function channelList(pubsub: PubSub, writer: ReplyWriter, shard: boolean, argv: readonly Buffer[]): void {
  const names = pubsub.activeChannels(shard, argv.length > 2 ? argv[2] : undefined);
  writer.arrayHeader(names.length);
  for (const name of names) writer.bulk(name);
}

function subscriberCounts(pubsub: PubSub, writer: ReplyWriter, shard: boolean, argv: readonly Buffer[]): void {
  writer.arrayHeader((argv.length - 2) * 2);
  for (let i = 2; i < argv.length; i++) {
    writer.bulk(argv[i]);
    writer.integer(pubsub.subscriberCount(shard, argv[i]));
  }
}

const pubsub = container({
  channels: ({ writer, argv, server }) => {
    if (argv.length > 3) return writer.error(subcommandSyntaxError(argv[1], argText(argv[0])));
    channelList(server.pubsub, writer, false, argv);
  },
  shardchannels: ({ writer, argv, server }) => {
    if (argv.length > 3) return writer.error(subcommandSyntaxError(argv[1], argText(argv[0])));
    channelList(server.pubsub, writer, true, argv);
  },
  numsub: ({ writer, argv, server }) => subscriberCounts(server.pubsub, writer, false, argv),
  shardnumsub: ({ writer, argv, server }) => subscriberCounts(server.pubsub, writer, true, argv),
  numpat: ({ writer, server }) => writer.integer(server.pubsub.patternCount),
  help: helpLines([
    'CHANNELS [<pattern>]',
    "    Return the currently active channels matching a <pattern> (default: '*').",
    'NUMPAT',
    '    Return number of subscriptions to patterns.',
    'NUMSUB [<channel> ...]',
    '    Return the number of subscribers for the specified channels, excluding',
    '    pattern subscriptions(default: no channels).',
    'SHARDCHANNELS [<pattern>]',
    "    Return the currently active shard level channels matching a <pattern> (default: '*').",
    'SHARDNUMSUB [<shardchannel> ...]',
    '    Return the number of subscribers for the specified shard level channel(s)',
  ]),
});

export const pubsubCommands: Record<string, ConnectionHandler> = {
  subscribe: subscribing(CHANNELS),
  psubscribe: subscribing(PATTERNS),
  ssubscribe: subscribing(SHARD_CHANNELS),
  unsubscribe: unsubscribing(CHANNELS),
  punsubscribe: unsubscribing(PATTERNS),
  sunsubscribe: unsubscribing(SHARD_CHANNELS),
  publish: ({ writer, argv, server }) => writer.integer(server.pubsub.publish(argv[1], argv[2])),
  spublish: ({ writer, argv, server }) => writer.integer(server.pubsub.publishShard(argv[1], argv[2])),
  pubsub,
};
