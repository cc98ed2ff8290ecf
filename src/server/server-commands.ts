/**
 * Server commands the front answers: INFO TIME LASTSAVE SLOWLOG LATENCY MONITOR SHUTDOWN DEBUG (and MEMORY,
 * memory-command.ts), as Redis
 * 7.0 answers them. INFO and DEBUG reach the shards (their figures; DEBUG SLEEP and POPULATE run on
 * every shard with all of them held, as Redis's single thread would be busy; DEBUG OBJECT asks the
 * key's shard).
 */
import { argText, parseInt64 } from '../commands/context.js';
import { ERR_NOT_INTEGER, ERR_SYNTAX, subcommandSyntaxError } from '../protocol/errors.js';
import { INTERNAL_DEBUG_OBJECT } from '../commands/keyspace.js';
import { ShardOp } from '../shard/frames.js';
import type { ConnectionContext, ConnectionHandler } from './connection-commands.js';
import type { ReplyWriter } from '../protocol/reply-writer.js';
import { container, helpLines } from './subcommands.js';
import { infoText, requestedSections } from './info.js';
import { memory } from './memory-command.js';
import { ERR_BGSAVE_IN_PROGRESS } from './persistence.js';
import { wallClockMicros } from './wall-clock.js';

/** Redis 7.0's answer while enable-debug-command is "no" (its default). */
export const ERR_DEBUG_NOT_ALLOWED =
  'ERR DEBUG command not allowed. If the enable-debug-command option is set to "local", you can run it from a local connection, otherwise you need to set this option in the configuration file, and then restart the server.';

const DEBUG_OBJECT = Buffer.from(INTERNAL_DEBUG_OBJECT);

const info: ConnectionHandler = async ({ argv, server }) => {
  const sections = requestedSections(argv.slice(1).map(argText));
  const shardStats = await server.shardStats();
  const text = infoText(sections, server.infoFacts(shardStats));
  return (writer) => writer.verbatim(text);
};

const time: ConnectionHandler = ({ writer }) => {
  const micros = wallClockMicros();
  writer.arrayHeader(2);
  writer.bulk(String(Math.floor(micros / 1_000_000)));
  writer.bulk(String(micros % 1_000_000));
};

const lastsave: ConnectionHandler = ({ writer, server }) => writer.integer(server.lastSave());

const slowlog = container({
  get: ({ writer, argv, server }) => {
    let count = 10;
    if (argv.length === 3) {
      const parsed = parseInt64(argv[2]);
      if (parsed === undefined || parsed < -1) return writer.error('ERR count should be greater than or equal to -1');
      count = Number(parsed);
    }
    const entries = server.slowlog.newest(count);
    writer.arrayHeader(entries.length);
    for (const entry of entries) {
      writer.arrayHeader(6);
      writer.integer(entry.id);
      writer.integer(entry.time);
      writer.integer(entry.micros);
      writer.bulkArray(entry.argv);
      writer.bulk(entry.peer);
      writer.bulk(entry.name);
    }
  },
  len: ({ writer, server }) => writer.integer(server.slowlog.length),
  reset: ({ writer, server }) => {
    server.slowlog.reset();
    writer.ok();
  },
  help: helpLines([
    'GET [<count>]',
    '    Return top <count> entries from the slowlog (default: 10, -1 mean all).',
    '    Entries are made of:',
    '    id, timestamp, time in microseconds, arguments array, client IP and port,',
    '    client name',
    'LEN',
    '    Return the length of the slowlog.',
    'RESET',
    '    Reset the slowlog.',
  ]),
});

/**
 * LATENCY, basic: sabre's latency monitor is off (latency-monitor-threshold 0, Redis's default), so it
 * has no events to report, and answers as Redis does with the monitor off.
 */
const latency = container({
  latest: ({ writer }) => writer.arrayHeader(0),
  history: ({ writer }) => writer.arrayHeader(0),
  reset: ({ writer }) => writer.integer(0),
  histogram: ({ writer }) => writer.mapHeader(0),
  graph: ({ writer, argv }) => writer.error(`ERR No samples available for event '${argText(argv[2])}'`),
  doctor: ({ writer }) =>
    writer.verbatim(
      `I'm sorry, Dave, I can't do that. Latency monitoring is disabled in this Redis instance. You may use "CONFIG SET latency-monitor-threshold <milliseconds>." in order to enable it. If we weren't in a deep space mission I'd suggest to take a look at https://redis.io/topics/latency-monitor.\n`,
    ),
  help: helpLines([
    'DOCTOR',
    '    Return a human readable latency analysis report.',
    'GRAPH <event>',
    '    Return an ASCII latency graph for the <event> class.',
    'HISTORY <event>',
    '    Return time-latency samples for the <event> class.',
    'LATEST',
    '    Return the latest latency samples for all events.',
    'RESET [<event> ...]',
    '    Reset latency data of one or more <event> classes.',
    '    (default: reset all data for all event classes)',
    'HISTOGRAM [COMMAND ...]',
    '    Return a cumulative distribution of latencies in the format of a histogram for the specified command names.',
    '    If no commands are specified then all histograms are replied.',
  ]),
});

const monitor: ConnectionHandler = ({ client, writer, server }) => {
  server.monitor(client);
  writer.ok();
};

/**
 * SHUTDOWN [NOSAVE|SAVE] [NOW] [FORCE] [ABORT]: saves first when told SAVE, or when save points are
 * configured and not told NOSAVE; a failed save keeps the server up unless FORCE. NOW has nothing to
 * skip (no replicas to wait for).
 */
const shutdown: ConnectionHandler = ({ client, writer, argv, server }) => {
  let save: boolean | undefined;
  let force = false;
  for (let i = 1; i < argv.length; i++) {
    const option = argText(argv[i]).toLowerCase();
    if (!['nosave', 'save', 'now', 'force', 'abort'].includes(option)) return writer.error(ERR_SYNTAX);
    if (option === 'abort') return writer.error('ERR No shutdown in progress.');
    if ((option === 'save' && save === false) || (option === 'nosave' && save === true)) return writer.error(ERR_SYNTAX);
    if (option === 'save' || option === 'nosave') save = option === 'save';
    if (option === 'force') force = true;
  }
  if (!(save ?? server.savesOnShutdown)) return server.shutdown();
  return server.save(client).then((saved) => {
    if (!saved && !force) return (w) => w.error('ERR Errors trying to SHUTDOWN. Check logs.');
    server.shutdown();
    return () => undefined;
  });
};

/** DEBUG RELOAD [MERGE] [NOFLUSH] [NOSAVE]: saves, empties every database and loads the file back, as Redis. */
function debugReload({ client, argv, server, writer }: ConnectionContext): ReturnType<ConnectionHandler> {
  const options = { flush: true, merge: false };
  let save = true;
  for (const arg of argv.slice(2)) {
    const option = argText(arg).toLowerCase();
    if (option === 'merge') options.merge = true;
    else if (option === 'noflush') options.flush = false;
    else if (option === 'nosave') save = false;
    else return writer.error('ERR DEBUG RELOAD only supports the MERGE, NOFLUSH and NOSAVE options.');
  }
  return (async () => {
    if (save && !(await server.save(client))) return (w: ReplyWriter) => w.error('ERR');
    if (!(await server.reload(client, options))) return (w: ReplyWriter) => w.error('ERR Error trying to load the RDB dump, check server logs.');
    return (w: ReplyWriter) => w.ok();
  })();
}

/** SAVE: the RDB file now, every shard held meanwhile (Redis blocks its one thread likewise). */
/** BGREWRITEAOF: the rewrite runs while the client has its answer, as Redis's forked one does. */
const bgrewriteaof: ConnectionHandler = ({ writer, server }) => {
  const outcome = server.rewriteAppendOnly();
  if (outcome === 'in progress') return writer.error('ERR Background append only file rewriting already in progress');
  if (outcome === 'unavailable') return writer.error('ERR BGREWRITEAOF is not available here: this server has no append only file');
  writer.simple(`Background append only file rewriting ${outcome}`);
};

const save: ConnectionHandler = ({ client, server, writer }) => {
  if (server.backgroundSaveInProgress) return writer.error(ERR_BGSAVE_IN_PROGRESS);
  return server.save(client).then((saved) => (w) => (saved ? w.ok() : w.error('ERR')));
};

/**
 * BGSAVE [SCHEDULE]: a background save from a copy-on-write snapshot (persistence.ts). SCHEDULE matters
 * while an AOF rewrite's snapshot runs: the save then starts when it ends.
 */
const bgsave: ConnectionHandler = ({ client, server, writer, argv }) => {
  if (argv.length > 2 || (argv.length === 2 && argText(argv[1]).toLowerCase() !== 'schedule')) return writer.error(ERR_SYNTAX);
  return server.backgroundSave(client, argv.length === 2).then((outcome) => (w) => {
    if (outcome.error !== undefined) w.error(outcome.error);
    else w.simple(outcome.scheduled === true ? 'Background saving scheduled' : 'Background saving started');
  });
};

const debug: ConnectionHandler = (context) => {
  const { client, writer, argv, server } = context;
  if (!server.debugAllowed(client)) return writer.error(ERR_DEBUG_NOT_ALLOWED);
  const sub = argText(argv[1]).toLowerCase();
  if (sub === 'sleep' && argv.length === 3) {
    const seconds = Number(argText(argv[2]));
    if (!Number.isFinite(seconds)) return writer.error('ERR value is not a valid float');
    return server.onEveryShard(client, ShardOp.Sleep, { millis: Math.max(0, seconds * 1000) }).then(() => (w) => w.ok());
  }
  if (sub === 'populate' && argv.length >= 3 && argv.length <= 5) {
    const count = parseInt64(argv[2]);
    if (count === undefined || count < 0) return writer.error(ERR_NOT_INTEGER);
    let size = 0;
    if (argv.length === 5) {
      const parsed = parseInt64(argv[4]);
      if (parsed === undefined || parsed < 0) return writer.error(ERR_NOT_INTEGER);
      size = Number(parsed);
    }
    const prefix = argv.length >= 4 ? argText(argv[3]) : 'key';
    return server.onEveryShard(client, ShardOp.Populate, { db: client.db, count: Number(count), prefix, size }).then(() => (w) => w.ok());
  }
  if (sub === 'reload') return debugReload(context);
  if (sub === 'object' && argv.length === 3) {
    return server.onKeyShard(client, argv[2], [DEBUG_OBJECT, argv[2]]).then((reply) => (w) => w.raw(reply));
  }
  writer.error(subcommandSyntaxError(argv[1], 'debug'));
};

export const serverCommands: Record<string, ConnectionHandler> = { info, time, lastsave, save, bgsave, bgrewriteaof, slowlog, latency, monitor, shutdown, debug, memory };
