/**
 * CLIENT TRACKING, CACHING, TRACKINGINFO and GETREDIR, with Redis 7.0's checks in Redis's order and
 * its error texts (tracking.ts does the work).
 */
import { argText, parseInt64 } from '../commands/context.js';
import { ERR_NOT_INTEGER, ERR_SYNTAX } from '../protocol/errors.js';
import type { Client } from './client.js';
import type { ConnectionHandler } from './connection-commands.js';
import type { TrackingOptions } from './tracking.js';

/** The options after CLIENT TRACKING ON|OFF, or an error. */
function parseOptions(argv: readonly Buffer[], clientById: (id: number) => Client | undefined): TrackingOptions | string {
  const options: TrackingOptions = { bcast: false, optin: false, optout: false, noloop: false, redirect: 0, prefixes: [] };
  for (let i = 3; i < argv.length; i++) {
    const option = argText(argv[i]).toLowerCase();
    const last = i + 1 >= argv.length;
    if (option === 'redirect' && !last) {
      const id = parseInt64(argv[++i]);
      if (id === undefined) return ERR_NOT_INTEGER;
      if (clientById(Number(id)) === undefined) return 'ERR The client ID you want redirect to does not exist';
      options.redirect = Number(id);
    } else if (option === 'prefix' && !last) options.prefixes.push(Buffer.from(argv[++i]));
    else if (option === 'bcast') options.bcast = true;
    else if (option === 'optin') options.optin = true;
    else if (option === 'optout') options.optout = true;
    else if (option === 'noloop') options.noloop = true;
    else return ERR_SYNTAX;
  }
  return options;
}

/** Redis refuses prefixes where one starts the other, among those given and against those already held. */
function prefixCollision(given: readonly Buffer[], held: readonly Buffer[]): string | undefined {
  const text = (prefix: Buffer) => prefix.toString('latin1');
  const overlaps = (a: Buffer, b: Buffer) => text(a).startsWith(text(b)) || text(b).startsWith(text(a));
  for (let i = 0; i < given.length; i++) {
    for (const existing of held) {
      if (overlaps(given[i], existing)) return `ERR Prefix '${text(given[i])}' overlaps with an existing prefix '${text(existing)}'. Prefixes for a single client must not overlap.`;
    }
    for (let j = i + 1; j < given.length; j++) {
      if (overlaps(given[i], given[j])) return `ERR Prefix '${text(given[i])}' overlaps with another provided prefix '${text(given[j])}'. Prefixes for a single client must not overlap.`;
    }
  }
  return undefined;
}

const tracking: ConnectionHandler = ({ client, writer, argv, server }) => {
  const mode = argText(argv[2]).toLowerCase();
  if (mode !== 'on' && mode !== 'off') return writer.error(ERR_SYNTAX);
  const options = parseOptions(argv, (id) => server.clientById(id));
  if (typeof options === 'string') return writer.error(options);
  if (mode === 'off') {
    server.tracking.disable(client);
    return writer.ok();
  }
  const current = client.tracking;
  if (!options.bcast && options.prefixes.length > 0) return writer.error('ERR PREFIX option requires BCAST mode to be enabled');
  if (current !== undefined && current.bcast !== options.bcast) {
    return writer.error("ERR You can't switch BCAST mode on/off before disabling tracking for this client, and then re-enabling it with a different mode.");
  }
  if (options.bcast && (options.optin || options.optout)) return writer.error('ERR OPTIN and OPTOUT are not compatible with BCAST');
  if (options.optin && options.optout) return writer.error("ERR You can't specify both OPTIN mode and OPTOUT mode");
  if ((options.optin && current?.optout === true) || (options.optout && current?.optin === true)) {
    return writer.error("ERR You can't switch OPTIN/OPTOUT mode before disabling tracking for this client, and then re-enabling it with a different mode.");
  }
  if (options.bcast) {
    const collision = prefixCollision(options.prefixes, current?.prefixes ?? []);
    if (collision !== undefined) return writer.error(collision);
    // BCAST without a prefix covers every key: the empty prefix.
    if (options.prefixes.length === 0 && (current?.prefixes.length ?? 0) === 0) options.prefixes.push(Buffer.alloc(0));
  }
  // Turning tracking on again keeps the modes already on, as Redis ORs the flags in.
  options.optin ||= current?.optin ?? false;
  options.optout ||= current?.optout ?? false;
  options.noloop ||= current?.noloop ?? false;
  server.tracking.enable(client, options);
  writer.ok();
};

const caching: ConnectionHandler = ({ client, writer, argv }) => {
  const state = client.tracking;
  if (state === undefined || (!state.optin && !state.optout)) {
    return writer.error('ERR CLIENT CACHING can be called only when the client is in tracking mode with OPTIN or OPTOUT mode enabled');
  }
  const answer = argText(argv[2]).toLowerCase();
  if (answer === 'yes') {
    if (!state.optin) return writer.error('ERR CLIENT CACHING YES is only valid when tracking is enabled in OPTIN mode.');
    state.caching = 'yes';
  } else if (answer === 'no') {
    if (!state.optout) return writer.error('ERR CLIENT CACHING NO is only valid when tracking is enabled in OPTOUT mode.');
    state.caching = 'no';
  } else return writer.error(ERR_SYNTAX);
  writer.ok();
};

const trackinginfo: ConnectionHandler = ({ client, writer, server }) => {
  const state = client.tracking;
  const flags: string[] = [];
  if (state === undefined) flags.push('off');
  else {
    flags.push('on');
    if (state.bcast) flags.push('bcast');
    if (state.optin) flags.push('optin');
    if (state.optout) flags.push('optout');
    if (state.caching === 'yes') flags.push('caching-yes');
    if (state.caching === 'no') flags.push('caching-no');
    if (state.noloop) flags.push('noloop');
    if (state.redirect !== 0 && server.clientById(state.redirect) === undefined) flags.push('broken_redirect');
  }
  writer.mapHeader(3);
  writer.bulk('flags');
  writer.setHeader(flags.length);
  for (const flag of flags) writer.bulk(flag);
  writer.bulk('redirect');
  writer.integer(trackingRedirect(client));
  writer.bulk('prefixes');
  writer.bulkArray(state?.prefixes ?? []);
};

/** CLIENT GETREDIR and CLIENT LIST's redir=: -1 when not tracking, else the redirect client (0: none). */
export function trackingRedirect(client: Client): number {
  return client.tracking === undefined ? -1 : client.tracking.redirect;
}

export const trackingCommands: Record<string, ConnectionHandler> = {
  tracking,
  caching,
  trackinginfo,
  getredir: ({ client, writer }) => writer.integer(trackingRedirect(client)),
};
