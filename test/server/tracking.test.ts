/**
 * CLIENT TRACKING on sabre (3 shards) beside a real redis-server: the same replies and errors for the
 * tracking commands, and the same invalidation bytes for RESP3 pushes, REDIRECT to a RESP2 subscriber
 * of __redis__:invalidate, BCAST prefixes, NOLOOP, OPTIN with CLIENT CACHING, flushes and expiry.
 */
import { connect, type Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { encodeCommand, b } from '../helpers/differential.js';
import { keysOnEveryShard } from '../helpers/keyspace.js';
import { sabreBesideRedis } from '../helpers/sabre-server.js';

const MARKER = 'end-of-step';
const MARKER_REPLY = `$${MARKER.length}\r\n${MARKER}\r\n`;

/**
 * A raw connection that sends a step's commands followed by PING with a marker (answered in subscribed mode too) and returns everything
 * received before the marker's reply: the step's replies and any invalidation pushed to it meanwhile.
 */
class Session {
  private received = '';
  private arrived: () => void = () => undefined;

  private constructor(private readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.received += chunk.toString('latin1');
      this.arrived();
    });
  }

  static open(port: number): Promise<Session> {
    return new Promise((resolve, reject) => {
      const socket = connect(port, '127.0.0.1', () => resolve(new Session(socket)));
      socket.once('error', reject);
    });
  }

  async send(...commands: string[][]): Promise<string> {
    this.socket.write(Buffer.concat([...commands, ['PING', MARKER]].map((args) => encodeCommand(args.map(b)))));
    while (!this.received.includes(MARKER_REPLY)) await new Promise<void>((resolve) => (this.arrived = resolve));
    const end = this.received.indexOf(MARKER_REPLY);
    const step = this.received.slice(0, end);
    this.received = this.received.slice(end + MARKER_REPLY.length);
    return step;
  }

  close(): void {
    this.socket.destroy();
  }
}

type Script = (sessions: Session[]) => Promise<string[]>;

/** Runs a script over three fresh connections (the first one learns the others' ids) on a server. */
async function run(port: number, script: Script): Promise<string[]> {
  const sessions = await Promise.all([0, 1, 2].map(() => Session.open(port)));
  try {
    await sessions[0].send(['FLUSHALL']);
    return await script(sessions);
  } finally {
    for (const session of sessions) session.close();
  }
}

describe('CLIENT TRACKING, sabre (3 shards) beside redis-server', () => {
  const servers = sabreBesideRedis(['--shards', '3']);
  const [k1, k2, k3] = keysOnEveryShard('track');

  async function same(script: Script): Promise<string[]> {
    const ours = await run(servers.sabre.port, script);
    if (servers.redis !== undefined) expect(ours).toEqual(await run(servers.redis.port, script));
    return ours;
  }

  it('answers the tracking commands and their errors as Redis does', async () => {
    await same(async ([a]) => [
      await a.send(
        ['CLIENT', 'TRACKING', 'on', 'REDIRECT', '99999'],
        ['CLIENT', 'TRACKING', 'on', 'REDIRECT', 'x'],
        ['CLIENT', 'TRACKING', 'on', 'PREFIX', 'a'],
        ['CLIENT', 'TRACKING', 'on', 'OPTIN', 'OPTOUT'],
        ['CLIENT', 'TRACKING', 'on', 'BCAST', 'OPTIN'],
        ['CLIENT', 'TRACKING', 'maybe'],
        ['CLIENT', 'TRACKING', 'on', 'foo'],
        ['CLIENT', 'TRACKINGINFO'],
        ['CLIENT', 'GETREDIR'],
        ['CLIENT', 'CACHING', 'yes'],
        ['CLIENT', 'TRACKING', 'on', 'OPTIN'],
        ['CLIENT', 'TRACKINGINFO'],
        ['CLIENT', 'GETREDIR'],
        ['CLIENT', 'CACHING', 'no'],
        ['CLIENT', 'CACHING', 'yes'],
        ['CLIENT', 'TRACKINGINFO'],
        ['CLIENT', 'CACHING', 'maybe'],
        ['CLIENT', 'TRACKING', 'on', 'OPTOUT'],
        ['CLIENT', 'TRACKING', 'on', 'BCAST'],
        ['CLIENT', 'TRACKING', 'off'],
        ['CLIENT', 'TRACKING', 'on', 'BCAST', 'PREFIX', 'a', 'PREFIX', 'ab'],
        ['CLIENT', 'TRACKING', 'on', 'BCAST', 'PREFIX', 'b', 'PREFIX', 'c', 'NOLOOP'],
        ['CLIENT', 'TRACKING', 'on', 'BCAST', 'PREFIX', 'bb'],
        ['CLIENT', 'TRACKINGINFO'],
        ['CLIENT', 'TRACKING', 'off'],
        ['CLIENT', 'TRACKING', 'on', 'PREFIX', 'a', 'BCAST'],
        ['CLIENT', 'TRACKINGINFO'],
        ['CLIENT', 'TRACKING', 'off'],
      ),
      // HELLO's reply names the client's id, which differs between the servers.
      await a.send(['HELLO', '3']).then(() => a.send(['CLIENT', 'TRACKING', 'on', 'BCAST', 'PREFIX', 'p'], ['CLIENT', 'TRACKINGINFO'])),
    ]);
  });

  it('sends RESP3 invalidations for keys read, once, and none for keys not read or changed by NOLOOP clients', async () => {
    const transcript = await same(async ([a, b]) => [
      await a.send(['HELLO', '3']).then(() => a.send(['CLIENT', 'TRACKING', 'on'], ['GET', k1], ['MGET', k2, k3])),
      // One shard per step: a pipeline's commands on different shards run side by side, so their
      // invalidations may come in either order.
      await b.send(['SET', k1, 'x'], ['SET', k1, 'y']),
      await b.send(['SET', k2, 'z'], ['SET', 'unread', '1']),
      await a.send(['PING']),
      await a.send(['CLIENT', 'TRACKING', 'off'], ['CLIENT', 'TRACKING', 'on', 'NOLOOP'], ['GET', k3], ['SET', k3, 'again'], ['PING']),
      await b.send(['FLUSHALL']),
      await a.send(['GET', k1], ['PING']),
      await b.send(['SET', k1, 'v', 'PX', '10']),
      await new Promise((resolve) => setTimeout(resolve, 300)).then(() => a.send()),
    ]);
    expect(transcript.join('')).toContain('invalidate');
  });

  it('redirects to a RESP2 subscriber of __redis__:invalidate, broadcasts prefixes, and honours OPTIN', async () => {
    await same(async ([a, b, c]) => {
      const id = (await b.send(['CLIENT', 'ID'])).slice(1, -2);
      return [
        await b.send(['SUBSCRIBE', '__redis__:invalidate']),
        await a.send(['CLIENT', 'TRACKING', 'on', 'REDIRECT', id], ['GET', k1]),
        await c.send(['SET', k1, '1']),
        await b.send(),
        await a.send(['CLIENT', 'TRACKING', 'off'], ['CLIENT', 'TRACKING', 'on', 'REDIRECT', id, 'BCAST', 'PREFIX', 'track']),
        await c.send(['SET', k2, '1'], ['SET', 'other', '1']),
        await b.send(),
        await a.send(['CLIENT', 'TRACKING', 'off'], ['CLIENT', 'TRACKING', 'on', 'REDIRECT', id, 'OPTIN'], ['GET', k2], ['CLIENT', 'CACHING', 'yes'], ['GET', k3]),
        await c.send(['SET', k2, '2'], ['SET', k3, '2']),
        await b.send(),
      ];
    });
  });
});
