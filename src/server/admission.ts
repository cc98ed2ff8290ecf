/**
 * Whether a new connection may stay, decided when it is accepted, as Redis 7.0 decides it: first
 * `maxclients` ("-ERR max number of clients reached"), then protected mode (a client that is not on the
 * loopback interface, while protected-mode is yes and the default user has no password, gets the long
 * -DENIED explanation, whatever `bind` says). Either way the reply is written and the connection closed.
 * A connection that stays gets the socket options the configuration asks for (tcp-keepalive).
 */
import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import type { Config } from '../config/config.js';

export const ERR_MAX_CLIENTS = 'ERR max number of clients reached';

export const DENIED_PROTECTED_MODE =
  'DENIED Redis is running in protected mode because protected mode is enabled and no password is set for the default user. ' +
  'In this mode connections are only accepted from the loopback interface. ' +
  'If you want to connect from external computers to Redis you may adopt one of the following solutions: ' +
  "1) Just disable protected mode sending the command 'CONFIG SET protected-mode no' from the loopback interface by connecting to Redis from the same host the server is running, however MAKE SURE Redis is not publicly accessible from internet if you do so. Use CONFIG REWRITE to make this change permanent. " +
  "2) Alternatively you can just disable the protected mode by editing the Redis configuration file, and setting the protected mode option to 'no', and then restarting the server. " +
  "3) If you started the server manually just for testing, restart it with the '--protected-mode no' option. " +
  '4) Setup a an authentication password for the default user. ' +
  'NOTE: You only need to do one of the above things in order for the server to start accepting connections from the outside.';

const REFUSED_LINGER_MS = 1000;

/** Redis counts only 127.0.0.1 and ::1 as local (not the rest of 127/8); IPv4 on a dual-stack socket comes as ::ffff:a.b.c.d. */
export function isLoopback(address: string | undefined): boolean {
  return address === '127.0.0.1' || address === '::1' || address === '::ffff:127.0.0.1';
}

/**
 * The error (without '-' and CRLF) to send a connection before closing it, or undefined to serve it.
 * `connected` counts the clients already served, not this one.
 */
export function admissionRefusal(config: Config, remoteAddress: string | undefined, connected: number): string | undefined {
  if (connected >= config.number('maxclients')) return ERR_MAX_CLIENTS;
  if (config.bool('protected-mode') && config.get('requirepass') === '' && !isLoopback(remoteAddress)) return DENIED_PROTECTED_MODE;
  return undefined;
}

/** Refuses (answers and closes) or prepares a just-accepted socket; returns whether it is to be served. */
export function admitConnection(socket: Socket, config: Config, connected: number, logger: Logger): boolean {
  const refusal = admissionRefusal(config, socket.remoteAddress, connected);
  if (refusal === undefined) {
    const keepalive = config.number('tcp-keepalive');
    if (keepalive > 0) socket.setKeepAlive(true, keepalive * 1000);
    return true;
  }
  if (refusal === DENIED_PROTECTED_MODE) logger.warn({ address: socket.remoteAddress }, 'refused a connection from a non-loopback address: protected mode is on and no password is set');
  else logger.debug({ address: socket.remoteAddress }, 'refused a connection: maxclients reached');
  // Whatever the client sends is dropped (a socket nobody reads never sees the peer's close), and one
  // that does not hang up is cut off soon after, as Redis frees it once the reply is out.
  socket.on('error', () => socket.destroy());
  socket.resume();
  socket.setTimeout(REFUSED_LINGER_MS, () => socket.destroy());
  socket.end(`-${refusal}\r\n`);
  return false;
}
