/**
 * Pub/Sub against a real redis-server 7.0, byte for byte: the same scripted exchange runs over raw
 * sockets against both servers and every connection's whole transcript must be identical.
 *
 * Messages reach a subscriber on its own socket, so a script step is only complete once every connection
 * has caught up: after each step each connection is sent `PING <tag>` and read up to that PING's reply
 * (`$len tag` in every mode). The server handles that PING after the step, so anything the step sent a
 * connection is in its transcript before the tag. Both servers get the same PINGs.
 *
 * UNSUBSCRIBE without arguments answers, and a channel's matching patterns receive, in Redis's dict
 * order, which is random per process: scripts drop at most one subscription of a kind that way, and give
 * a connection at most one pattern matching a published channel.
 */
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeCommand } from '../helpers/differential.js';
import { startRedis, type RunningRedis } from '../helpers/redis-server.js';
import { startSabre, type RunningSabre } from '../helpers/sabre-server.js';

type Step = [connection: number, command: string | (string | Buffer)[]];

class RawConnection {
  received = Buffer.alloc(0);
  private waiting: (() => void) | undefined;

  private constructor(private readonly socket: net.Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.received = Buffer.concat([this.received, chunk]);
      this.waiting?.();
    });
  }

  static open(port: number): Promise<RawConnection> {
    return new Promise((resolve, reject) => {
      const socket = net.connect(port, '127.0.0.1', () => resolve(new RawConnection(socket)));
      socket.once('error', reject);
    });
  }

  send(argv: readonly (string | Buffer)[]): void {
    this.socket.write(encodeCommand(argv.map((arg) => (typeof arg === 'string' ? Buffer.from(arg) : arg))));
  }

  /** Sends PING <tag> and waits for its reply. */
  async sync(tag: string): Promise<void> {
    this.send(['PING', tag]);
    const expected = Buffer.from(`$${tag.length}\r\n${tag}\r\n`);
    const deadline = Date.now() + 5000;
    while (!this.received.includes(expected)) {
      if (Date.now() > deadline) throw new Error(`no reply to PING ${tag}; got ${JSON.stringify(this.received.toString('latin1'))}`);
      await new Promise<void>((resolve) => {
        this.waiting = resolve;
        setTimeout(resolve, 50);
      });
    }
  }

  close(): void {
    this.socket.destroy();
  }
}

/** A step's commands: an argv, or text with commands separated by ` ; ` (sent together, e.g. around CLIENT REPLY OFF). */
const commandsOf = (command: string | (string | Buffer)[]): (string | Buffer)[][] =>
  typeof command === 'string' ? command.split(' ; ').map((one) => one.split(' ')) : [command];

/** What legitimately differs between two servers: client ids, addresses, buffer figures, MONITOR's clock. */
function masked(transcript: string): string {
  return transcript
    .replace(/\$2\r\nid\r\n:\d+\r\n/g, '$2\r\nid\r\n:ID\r\n')
    .replace(/id=\d+ .*?(flags=\S+ db=\d+ sub=\d+ psub=\d+ ssub=\d+).*?\n/g, 'CLIENT[$1]\n')
    .replace(/[$=]\d+\r\n(txt:)?CLIENT\[/g, 'LEN\r\n$1CLIENT[')
    .replace(/\+\d+\.\d+ \[\d+ [^\]]*\] [^\r]*\r\n/g, '+MONITOR-LINE\r\n');
}

/** Runs a script on fresh connections and returns each connection's transcript, client ids masked. */
async function transcripts(port: number, connections: number, steps: readonly Step[]): Promise<string[]> {
  const open = await Promise.all(Array.from({ length: connections }, () => RawConnection.open(port)));
  try {
    let tag = 0;
    for (const [index, command] of steps) {
      for (const argv of commandsOf(command)) open[index].send(argv);
      for (const connection of [open[index], ...open.filter((_, i) => i !== index)]) await connection.sync(`sync-${tag++}`);
    }
    return open.map((connection) => masked(connection.received.toString('latin1')));
  } finally {
    for (const connection of open) connection.close();
  }
}

let sabre: RunningSabre;
let redis: RunningRedis | undefined;

beforeAll(async () => {
  sabre = await startSabre(['--shards', '4']);
  redis = await startRedis();
});

afterAll(async () => {
  expect(await sabre.stop()).toBe(0);
  await redis?.stop();
});

/** Runs the script on both servers and expects identical transcripts; returns sabre's for further checks. */
async function same(connections: number, steps: readonly Step[]): Promise<string[] | undefined> {
  if (redis === undefined) return undefined;
  const [ours, theirs] = await Promise.all([transcripts(sabre.port, connections, steps), transcripts(redis.port, connections, steps)]);
  for (let i = 0; i < connections; i++) expect(ours[i], `connection ${i}`).toBe(theirs[i]);
  return ours;
}

describe('Pub/Sub is Redis 7.0 byte for byte', () => {
  it('confirms each (un)subscription with its count, and answers unsubscribing from nothing', async (context) => {
    const ours = await same(1, [
      [0, 'UNSUBSCRIBE'],
      [0, 'PUNSUBSCRIBE'],
      [0, 'SUNSUBSCRIBE'],
      [0, 'UNSUBSCRIBE never'],
      [0, 'SUBSCRIBE a b a'],
      [0, 'PSUBSCRIBE h* a?'],
      [0, 'SSUBSCRIBE a'],
      [0, 'UNSUBSCRIBE b nope'],
      [0, 'PUNSUBSCRIBE h*'],
      [0, 'SUNSUBSCRIBE'],
      [0, 'UNSUBSCRIBE'],
      [0, 'PUNSUBSCRIBE'],
      [0, 'PING'],
    ]);
    if (ours === undefined) return context.skip();
    expect(ours[0]).toContain('*3\r\n$9\r\nsubscribe\r\n$1\r\nb\r\n:2\r\n');
  });

  it('delivers message, pmessage and smessage frames, counting every delivery', async (context) => {
    const ours = await same(3, [
      [0, 'SUBSCRIBE news'],
      [0, 'PSUBSCRIBE n*'],
      [1, 'PSUBSCRIBE n?ws'],
      [1, 'SSUBSCRIBE news'],
      [2, 'PUBLISH news hello'],
      [2, 'PUBLISH nothing-here x'],
      [2, 'PUBLISH other x'],
      [2, 'SPUBLISH news shard-only'],
      [2, 'SPUBLISH nobody x'],
      [0, 'UNSUBSCRIBE news'],
      [2, 'PUBLISH news again'],
      [2, ['PUBLISH', 'news', Buffer.from([0, 13, 10, 255])]],
    ]);
    if (ours === undefined) return context.skip();
    // Connection 0 by channel and by pattern (two deliveries, as Redis counts them), connection 1 by pattern.
    expect(ours[2]).toMatch(/^(\$\d+\r\nsync-\d+\r\n)+:3\r\n/);
  });

  it('matches patterns with Redis glob rules', async (context) => {
    const patterns = ['h?llo', 'h*llo', 'h[ae]llo', 'h[^e]llo', 'h[a-b]llo', 'h\\*llo', '*', 'x[', 'a\\'];
    const channels = ['hello', 'hallo', 'hxllo', 'hllo', 'heeeello', 'h*llo', 'hbllo', 'x[', 'a\\', 'HELLO'];
    // One pattern per connection: Redis tries a channel's patterns in its dict's random order.
    const publisher = patterns.length;
    await same(patterns.length + 1, [
      ...patterns.map((pattern, i): Step => [i, ['PSUBSCRIBE', pattern]]),
      ...channels.map((channel): Step => [publisher, ['PUBLISH', channel, 'm']]),
      [publisher, 'PUBSUB NUMPAT'],
    ]);
  });

  it('refuses other commands in RESP2 subscribed mode, and answers PING as an array', async () => {
    await same(1, [
      [0, 'SUBSCRIBE a'],
      [0, 'GET x'],
      [0, 'SET x 1'],
      [0, 'CLIENT LIST'],
      [0, 'CLIENT FOO'],
      [0, 'HELLO 3'],
      [0, 'PUBSUB NUMSUB a'],
      [0, 'NOSUCHCOMMAND'],
      [0, 'GET'],
      [0, 'PING'],
      [0, 'PING hi'],
      [0, 'UNSUBSCRIBE'],
      [0, 'PING'],
      [0, 'GET x'],
    ]);
  });

  it('sends push frames to RESP3 subscribers, which may run any command', async () => {
    await same(2, [
      [0, 'HELLO 3'],
      [0, 'SUBSCRIBE ch'],
      [0, 'PSUBSCRIBE c*'],
      [0, 'SSUBSCRIBE ch'],
      [1, 'PUBLISH ch hello'],
      [1, 'SPUBLISH ch sh'],
      [1, 'PUBSUB NUMSUB ch x'],
      [0, 'PUBLISH ch to-myself'],
      [0, 'SPUBLISH ch to-myself'],
      [0, 'SET k v'],
      [0, 'GET k'],
      [0, 'PING'],
      [0, 'UNSUBSCRIBE'],
      [0, 'PUNSUBSCRIBE nope'],
      [0, 'SUNSUBSCRIBE'],
      [0, 'UNSUBSCRIBE'],
      [1, 'PUBLISH ch nobody'],
      [0, 'DEL k'],
    ]);
  });

  it('answers PUBSUB CHANNELS, NUMSUB, NUMPAT, SHARDCHANNELS, SHARDNUMSUB and HELP', async () => {
    await same(3, [
      [2, 'PUBSUB CHANNELS'],
      [2, 'PUBSUB NUMSUB'],
      [2, 'PUBSUB NUMPAT'],
      [0, 'SUBSCRIBE alpha'],
      [1, 'SUBSCRIBE alpha'],
      [1, 'PSUBSCRIBE a* a*'],
      [0, 'PSUBSCRIBE a*'],
      [0, 'SSUBSCRIBE {s}one'],
      [1, 'SSUBSCRIBE {s}one'],
      [2, 'PUBSUB CHANNELS'],
      [2, 'PUBSUB CHANNELS a*'],
      [2, 'PUBSUB CHANNELS b*'],
      [2, 'PUBSUB NUMSUB alpha beta {s}one'],
      [2, 'PUBSUB NUMPAT'],
      [2, 'PUBSUB SHARDCHANNELS'],
      [2, 'PUBSUB SHARDCHANNELS *one'],
      [2, 'PUBSUB SHARDNUMSUB {s}one alpha'],
      [2, 'PUBSUB HELP'],
      [2, 'PUBSUB'],
      [2, 'PUBSUB FOO'],
      [2, 'PUBSUB NUMPAT x'],
      [2, 'PUBSUB CHANNELS a b'],
      [2, 'PUBSUB SHARDCHANNELS a b'],
      [2, 'PUBLISH a'],
      [2, 'SPUBLISH a'],
      [2, 'SUBSCRIBE'],
    ]);
  });

  it('takes shard channels of different slots in one SSUBSCRIBE, outside cluster mode', async () => {
    await same(2, [
      [0, 'SSUBSCRIBE a b c {a}x'],
      [1, 'SPUBLISH b one'],
      [1, 'SPUBLISH {a}x two'],
      [1, 'PUBLISH b not-shard'],
      [0, 'SUNSUBSCRIBE a b c'],
      [0, 'SUNSUBSCRIBE'],
    ]);
  });

  it('shows subscriptions in CLIENT INFO, CLIENT LIST TYPE and INFO stats', async () => {
    const ours = await same(2, [
      [0, 'HELLO 3'],
      [0, 'SUBSCRIBE a b'],
      [0, 'PSUBSCRIBE p*'],
      [0, 'SSUBSCRIBE s'],
      [0, 'CLIENT INFO'],
      [1, 'CLIENT LIST TYPE pubsub'],
      [1, 'CLIENT KILL TYPE pubsub SKIPME yes ID 999999'],
    ]);
    if (ours === undefined) return;
    expect(ours[0]).toContain('CLIENT[flags=P db=0 sub=2 psub=1 ssub=1]');
    const counts = await RawConnection.open(sabre.port);
    counts.send(['INFO', 'stats']);
    await counts.sync('done');
    counts.close();
    // Every connection of the script closed: nothing is left subscribed.
    expect(counts.received.toString()).toMatch(/pubsub_channels:0\r\npubsub_patterns:0\r\npubsubshard_channels:0\r\n/);
  });

  it('RESET leaves subscribed mode, MONITOR, the database, RESP3, the name and CLIENT REPLY OFF', async () => {
    await same(2, [
      [0, 'SELECT 3'],
      [0, 'CLIENT SETNAME me'],
      [0, 'HELLO 3'],
      [0, 'SUBSCRIBE x'],
      [0, 'PSUBSCRIBE y*'],
      [0, 'CLIENT REPLY OFF ; RESET'],
      [1, 'PUBLISH x gone'],
      [1, 'PUBSUB NUMPAT'],
      [0, 'CLIENT GETNAME'],
      [0, 'SET k v'],
      [0, 'SELECT 0'],
      [0, 'GET k'],
      [0, 'SUBSCRIBE z'],
      [0, 'RESET'],
      [0, 'GET k'],
      [0, 'MONITOR ; RESET'],
      [1, 'GET nothing'],
      [0, 'DEL k'],
    ]);
  });
});
