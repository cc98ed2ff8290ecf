/**
 * Commands the front answers itself, because they concern the connection or the server rather than any
 * key: PING, ECHO, SELECT, QUIT, HELLO, CLIENT ID|SETNAME|GETNAME, COMMAND COUNT|DOCS, INFO and CONFIG
 * (config-command.ts). Each writes its reply into the client's writer; replies and errors follow Redis 7.0.
 */
import { argText, parseInt64 } from '../commands/context.js';
import type { CommandTable } from '../commands/table.js';
import type { Config } from '../config/config.js';
import {
  ERR_DB_INDEX_OUT_OF_RANGE,
  ERR_NOT_INTEGER,
  ERR_PROTOCOL_VERSION_NOT_INTEGER,
  ERR_SYNTAX,
  NOPROTO,
  unknownSubcommand,
} from '../protocol/errors.js';
import type { ReplyWriter } from '../protocol/reply-writer.js';
import { DATABASES } from '../shard/shard.js';
import { SERVER_VERSION } from '../version.js';
import { configCommand } from './config-command.js';
import type { Client } from './front.js';
import { container, type ConnectionHandler } from './subcommands.js';

export { SERVER_VERSION };

export interface ConnectionContext {
  client: Client;
  writer: ReplyWriter;
  argv: readonly Buffer[];
  table: CommandTable;
  server: ServerFacts;
  config: Config;
  /** CONFIG RESETSTAT's work: clears the statistics INFO reports. */
  resetStats?: () => void;
}

/** What INFO reports about the running server, read at the moment of the command. */
export interface ServerFacts {
  port: number;
  shards: number;
  startedAt: number;
  connectedClients: number;
}

const ping: ConnectionHandler = ({ writer, argv }) => {
  if (argv.length === 1) writer.pong();
  else writer.bulk(argv[1]);
};

const echo: ConnectionHandler = ({ writer, argv }) => writer.bulk(argv[1]);

const select: ConnectionHandler = ({ client, writer, argv }) => {
  const index = parseInt64(argv[1]);
  if (index === undefined) return writer.error(ERR_NOT_INTEGER);
  if (index < 0 || index >= DATABASES) return writer.error(ERR_DB_INDEX_OUT_OF_RANGE);
  client.db = Number(index);
  writer.ok();
};

const quit: ConnectionHandler = ({ client, writer }) => {
  client.closing = true;
  writer.ok();
};

/** HELLO [protover [AUTH user pass] [SETNAME name]]: switches RESP version and describes the server. */
const hello: ConnectionHandler = ({ client, writer, argv }) => {
  let protocol = client.protocol;
  if (argv.length > 1) {
    const version = parseInt64(argv[1]);
    if (version === undefined) return writer.error(ERR_PROTOCOL_VERSION_NOT_INTEGER);
    if (version !== 2 && version !== 3) return writer.error(NOPROTO);
    protocol = version;
  }
  let name: string | undefined;
  for (let i = 2; i < argv.length; i++) {
    const option = argText(argv[i]).toLowerCase();
    if (option === 'setname' && i + 1 < argv.length) name = argText(argv[++i]);
    else if (option === 'auth' && i + 2 < argv.length) i += 2;
    else return writer.error(ERR_SYNTAX);
  }
  if (name !== undefined) client.name = name;
  writer.protocol = protocol;
  writer.mapHeader(7);
  writer.bulk('server');
  writer.bulk('redis');
  writer.bulk('version');
  writer.bulk(SERVER_VERSION);
  writer.bulk('proto');
  writer.integer(protocol);
  writer.bulk('id');
  writer.integer(client.id);
  writer.bulk('mode');
  writer.bulk('standalone');
  writer.bulk('role');
  writer.bulk('master');
  writer.bulk('modules');
  writer.arrayHeader(0);
};

const clientCommand = container({
  id: ({ client, writer }) => writer.integer(client.id),
  setname: ({ client, writer, argv }) => {
    const name = argText(argv[2]);
    if (/[\s]/.test(name)) return writer.error('ERR Client names cannot contain spaces, newlines or special characters.');
    client.name = name;
    writer.ok();
  },
  getname: ({ client, writer }) => (client.name === '' ? writer.nullBulk() : writer.bulk(client.name)),
});

const commandSubcommands = container({
  count: ({ writer, table }) => writer.integer(table.size),
  // redis-cli asks for command docs at startup to show hints; sabre has none to give yet.
  docs: ({ writer }) => writer.mapHeader(0),
});

/** COMMAND with no subcommand (the full table) is not served yet; COUNT and DOCS are. */
const command: ConnectionHandler = (ctx) => {
  if (ctx.argv.length === 1) return ctx.writer.error(unknownSubcommand(Buffer.from(''), 'COMMAND'));
  commandSubcommands(ctx);
};

/**
 * INFO [section ...]: the sections sabre can already fill with real figures (server, clients,
 * persistence); the others come with the parts they describe. ioredis reads `loading` as its ready check.
 */
const info: ConnectionHandler = ({ writer, argv, server }) => {
  const uptime = Math.floor((Date.now() - server.startedAt) / 1000);
  const sections: Record<string, [string, string | number][]> = {
    server: [
      ['redis_version', SERVER_VERSION],
      ['redis_mode', 'standalone'],
      ['os', `${process.platform} ${process.arch}`],
      ['arch_bits', process.arch.endsWith('64') ? 64 : 32],
      ['process_id', process.pid],
      ['tcp_port', server.port],
      ['uptime_in_seconds', uptime],
      ['uptime_in_days', Math.floor(uptime / 86400)],
      ['executable', process.argv[1] ?? ''],
      ['sabre_shards', server.shards],
    ],
    clients: [['connected_clients', server.connectedClients]],
    persistence: [
      ['loading', 0],
      ['async_loading', 0],
    ],
  };
  const wanted = argv.slice(1).map((arg) => argText(arg).toLowerCase());
  const all = wanted.length === 0 || wanted.some((name) => name === 'all' || name === 'default' || name === 'everything');
  const text = Object.entries(sections)
    .filter(([name]) => all || wanted.includes(name))
    .map(([name, fields]) => `# ${name[0].toUpperCase()}${name.slice(1)}\r\n${fields.map(([key, value]) => `${key}:${value}\r\n`).join('')}`)
    .join('\r\n');
  writer.bulk(text);
};

export const connectionCommands: ReadonlyMap<string, ConnectionHandler> = new Map([
  ['ping', ping],
  ['echo', echo],
  ['select', select],
  ['quit', quit],
  ['hello', hello],
  ['client', clientCommand],
  ['command', command],
  ['info', info],
  ['config', configCommand],
]);
