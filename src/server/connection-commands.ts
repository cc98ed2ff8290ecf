/**
 * Commands the front answers itself because they concern the connection rather than any key (PING ECHO
 * SELECT QUIT HELLO RESET, and CONFIG from config-command.ts), and the context and handler type every
 * front-answered command family shares. Replies and errors follow Redis 7.0.
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
} from '../protocol/errors.js';
import type { ReplyWriter } from '../protocol/reply-writer.js';
import { SERVER_VERSION } from '../version.js';
import type { Client } from './client.js';
import { configCommand } from './config-command.js';
import type { ServerContext } from './server-context.js';

export interface ConnectionContext {
  client: Client;
  writer: ReplyWriter;
  argv: readonly Buffer[];
  table: CommandTable;
  server: ServerContext;
  config: Config;
  /** The command's reply position in the client's queue. */
  position: number;
}

/**
 * A command the front answers. It writes its reply into `writer` at once, or returns a promise of the
 * function that writes it, for replies that need the shards first (INFO); the front then fills the
 * command's reply position when it settles, so the client's replies stay in order.
 */
export type ConnectionHandler = (ctx: ConnectionContext) => void | Promise<(writer: ReplyWriter) => void>;


const ping: ConnectionHandler = ({ client, writer, argv }) => {
  // A RESP2 client in subscribed mode can only read arrays: Redis answers ["pong", argument or ""].
  if (client.pubsub !== undefined && client.protocol === 2) {
    writer.arrayHeader(2);
    writer.bulk('pong');
    writer.bulk(argv.length === 1 ? '' : argv[1]);
  } else if (argv.length === 1) writer.pong();
  else writer.bulk(argv[1]);
};

const echo: ConnectionHandler = ({ writer, argv }) => writer.bulk(argv[1]);

const select: ConnectionHandler = ({ client, writer, argv, config }) => {
  const index = parseInt64(argv[1]);
  if (index === undefined) return writer.error(ERR_NOT_INTEGER);
  if (index < 0 || index >= config.number('databases')) return writer.error(ERR_DB_INDEX_OUT_OF_RANGE);
  client.db = Number(index);
  writer.ok();
};

const quit: ConnectionHandler = ({ client, writer }) => {
  client.closing = true;
  writer.ok();
};

/** RESET: the connection as it was when it opened, answered with +RESET (in RESP2, even with replies off). */
const reset: ConnectionHandler = ({ client, writer, server, position }) => {
  server.resetClient(client);
  client.unsilence(position);
  writer.simple('RESET');
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

export const connectionCommands: Record<string, ConnectionHandler> = { ping, echo, select, quit, hello, reset, config: configCommand };
