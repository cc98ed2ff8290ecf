/**
 * CLIENT ID|SETNAME|GETNAME|LIST|INFO|KILL|PAUSE|UNPAUSE|UNBLOCK|REPLY|NO-EVICT|GETREDIR|HELP, as Redis 7.0
 * answers them. CLIENT LIST shows Redis's fields; those describing buffers show sabre's real figures
 * (bytes waiting in the output buffer and the socket, commands parsed and waiting).
 */
import { argText, parseInt64 } from '../commands/context.js';
import { ERR_NOT_INTEGER, ERR_SYNTAX } from '../protocol/errors.js';
import type { Client } from './client.js';
import type { ConnectionHandler } from './connection-commands.js';
import { trackingCommands, trackingRedirect } from './tracking-commands.js';
import { container, helpLines } from './subcommands.js';

const ERR_BAD_NAME = 'ERR Client names cannot contain spaces, newlines or special characters.';
const ERR_NO_SUCH_CLIENT = 'ERR No such client';
const ERR_TIMEOUT = 'ERR timeout is not an integer or out of range';

/** One CLIENT LIST line, with Redis 7.0's fields in Redis's order. */
export function describeClient(client: Client, now: number): string {
  const handle = (client.socket as unknown as { _handle?: { fd?: number } })._handle;
  const tracking = client.tracking;
  const flags =
    `${client.monitoring ? 'O' : ''}${client.pubsub !== undefined ? 'P' : ''}${client.transaction !== undefined ? 'x' : ''}` +
      `${client.blocking === 'blocked' ? 'b' : ''}${tracking !== undefined ? 't' : ''}${tracking?.bcast === true ? 'B' : ''}` || 'N';
  const subscriptions = client.pubsub;
  const fields: [string, string | number][] = [
    ['id', client.id],
    ['addr', client.address],
    ['laddr', client.localAddress],
    ['fd', handle?.fd ?? -1],
    ['name', client.name],
    ['age', Math.floor((now - client.createdAt) / 1000)],
    ['idle', Math.floor((now - client.lastActivity) / 1000)],
    ['flags', flags],
    ['db', client.db],
    ['sub', subscriptions?.channels.size ?? 0],
    ['psub', subscriptions?.patterns.size ?? 0],
    ['ssub', subscriptions?.shardChannels.size ?? 0],
    ['multi', client.transaction?.commands.length ?? -1],
    ['qbuf', client.parser.bufferedBytes],
    ['qbuf-free', 0],
    ['argv-mem', 0],
    ['multi-mem', 0],
    ['rbs', 0],
    ['rbp', 0],
    ['obl', 0],
    ['oll', client.pendingReplies],
    ['omem', client.outputBytes],
    ['tot-mem', client.outputBytes + client.parser.bufferedBytes],
    ['events', client.outputBytes > 0 ? 'rw' : 'r'],
    ['cmd', client.lastCommand],
    ['user', 'default'],
    ['redir', trackingRedirect(client)],
    ['resp', client.protocol],
  ];
  return fields.map(([key, value]) => `${key}=${value}`).join(' ');
}

/** Redis's client type, as CLIENT LIST TYPE and CLIENT KILL TYPE name it (MONITOR clients count as normal). */
function clientType(client: Client): string {
  return client.pubsub !== undefined ? 'pubsub' : 'normal';
}

function validName(name: string): boolean {
  for (let i = 0; i < name.length; i++) {
    const code = name.charCodeAt(i);
    if (code < 0x21 || code > 0x7e) return false;
  }
  return true;
}

/** CLIENT KILL's filters (new form), each client tested against all of them. */
function killFilter(argv: readonly Buffer[], self: Client): ((client: Client) => boolean) | string {
  const tests: ((client: Client) => boolean)[] = [];
  let skipMe = true;
  for (let i = 2; i < argv.length; i += 2) {
    if (i + 1 >= argv.length) return ERR_SYNTAX;
    const option = argText(argv[i]).toLowerCase();
    const value = argText(argv[i + 1]);
    if (option === 'id') {
      const id = parseInt64(argv[i + 1]);
      if (id === undefined || id <= 0) return 'ERR client-id should be greater than 0';
      tests.push((client) => client.id === Number(id));
    } else if (option === 'addr') tests.push((client) => client.address === value);
    else if (option === 'laddr') tests.push((client) => client.localAddress === value);
    else if (option === 'user') tests.push(() => value === 'default');
    else if (option === 'type') {
      const type = value.toLowerCase();
      if (!['normal', 'master', 'replica', 'slave', 'pubsub'].includes(type)) return `ERR Unknown client type '${value}'`;
      tests.push((client) => clientType(client) === type);
    } else if (option === 'skipme') {
      const answer = value.toLowerCase();
      if (answer !== 'yes' && answer !== 'no') return ERR_SYNTAX;
      skipMe = answer === 'yes';
    } else return ERR_SYNTAX;
  }
  return (client) => (!skipMe || client !== self) && tests.every((test) => test(client));
}

export const clientCommand: ConnectionHandler = container({
  id: ({ client, writer }) => writer.integer(client.id),
  setname: ({ client, writer, argv }) => {
    const name = argText(argv[2]);
    if (!validName(name)) return writer.error(ERR_BAD_NAME);
    client.name = name;
    writer.ok();
  },
  getname: ({ client, writer }) => (client.name === '' ? writer.nullBulk() : writer.bulk(client.name)),
  ...trackingCommands,
  info: ({ client, writer }) => writer.verbatim(`${describeClient(client, Date.now())}\n`),
  list: ({ writer, argv, server }) => {
    let wanted: ((client: Client) => boolean) | undefined;
    if (argv.length > 2) {
      const option = argText(argv[2]).toLowerCase();
      if (option === 'type' && argv.length === 4) {
        const type = argText(argv[3]).toLowerCase();
        if (!['normal', 'master', 'replica', 'slave', 'pubsub'].includes(type)) return writer.error(`ERR Unknown client type '${argText(argv[3])}'`);
        wanted = (client) => clientType(client) === type;
      } else if (option === 'id' && argv.length > 3) {
        const ids = new Set<number>();
        for (let i = 3; i < argv.length; i++) {
          const id = parseInt64(argv[i]);
          if (id === undefined || id <= 0) return writer.error('ERR Invalid client ID');
          ids.add(Number(id));
        }
        wanted = (client) => ids.has(client.id);
      } else return writer.error(ERR_SYNTAX);
    }
    const now = Date.now();
    let text = '';
    for (const client of server.clients()) if (wanted === undefined || wanted(client)) text += `${describeClient(client, now)}\n`;
    writer.verbatim(text);
  },
  kill: ({ client: self, writer, argv, server }) => {
    if (argv.length === 3) {
      // The old form: CLIENT KILL addr:port, answered with OK or an error.
      const address = argText(argv[2]);
      for (const client of server.clients()) {
        if (client.address === address) {
          client.kill();
          return writer.ok();
        }
      }
      return writer.error(ERR_NO_SUCH_CLIENT);
    }
    const filter = killFilter(argv, self);
    if (typeof filter === 'string') return writer.error(filter);
    let killed = 0;
    for (const client of [...server.clients()]) {
      if (filter(client)) {
        client.kill();
        killed++;
      }
    }
    writer.integer(killed);
  },
  pause: ({ writer, argv, server }) => {
    const timeout = parseInt64(argv[2]);
    if (timeout === undefined || timeout < 0) return writer.error(ERR_TIMEOUT);
    let writesOnly = false;
    if (argv.length === 4) {
      const mode = argText(argv[3]).toLowerCase();
      if (mode === 'write') writesOnly = true;
      else if (mode !== 'all') return writer.error(ERR_SYNTAX);
    } else if (argv.length > 4) return writer.error(ERR_SYNTAX);
    server.pause(Date.now() + Number(timeout), writesOnly);
    writer.ok();
  },
  unblock: ({ writer, argv, server }) => {
    let error = false;
    if (argv.length === 4) {
      const reason = argText(argv[3]).toLowerCase();
      if (reason === 'error') error = true;
      else if (reason !== 'timeout') return writer.error('ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR');
    } else if (argv.length > 4) return writer.error(ERR_SYNTAX);
    const id = parseInt64(argv[2]);
    if (id === undefined) return writer.error(ERR_NOT_INTEGER);
    writer.integer(server.unblockClient(Number(id), error) ? 1 : 0);
  },
  unpause: ({ writer, server }) => {
    server.unpause();
    writer.ok();
  },
  reply: ({ client, writer, argv, position }) => {
    const mode = argText(argv[2]).toLowerCase();
    if (mode === 'on') {
      client.replyMode = 'on';
      client.unsilence(position);
      writer.ok();
    } else if (mode === 'off') client.replyMode = 'off';
    else if (mode === 'skip') {
      if (client.replyMode !== 'off') client.replyMode = 'skip';
    } else writer.error(ERR_SYNTAX);
  },
  'no-evict': ({ client, writer, argv }) => {
    const mode = argText(argv[2]).toLowerCase();
    if (mode !== 'on' && mode !== 'off') return writer.error(ERR_SYNTAX);
    client.noEvict = mode === 'on';
    writer.ok();
  },
  help: helpLines([
    'GETNAME',
    '    Return the name of the current connection.',
    'ID',
    '    Return the ID of the current connection.',
    'INFO',
    '    Return information about the current client connection.',
    'KILL <ip:port>',
    '    Kill connection made from <ip:port>.',
    'KILL <option> <value> [<option> <value> [...]]',
    '    Kill connections. Options are: ID, TYPE, USER, ADDR, LADDR, SKIPME.',
    'LIST [options ...]',
    '    Return information about client connections. Options: TYPE, ID.',
    'UNPAUSE',
    '    Stop the current client pause, resuming traffic.',
    'UNBLOCK <clientid> [TIMEOUT|ERROR]',
    '    Unblock the specified blocked client.',
    'PAUSE <timeout> [WRITE|ALL]',
    '    Suspend all, or just write, clients for <timeout> milliseconds.',
    'REPLY (ON|OFF|SKIP)',
    '    Control the replies sent to the current connection.',
    'SETNAME <name>',
    '    Assign the name <name> to the current connection.',
    'NO-EVICT (ON|OFF)',
    '    Protect current client connection from eviction.',
  ]),
});
