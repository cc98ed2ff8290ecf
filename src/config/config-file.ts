/**
 * redis.conf and the command line, read as redis-server 7.0 reads them.
 *
 * `sabre-server [/path/to/redis.conf] [--name value ...]`: the command-line options become directives
 * appended after the file's content (`--save "900 1"` → `save "900 1"`), so they override it, and one
 * text is then read line by line. A line is split into arguments like Redis's sdssplitargs: double
 * quotes with C escapes (\n, \xHH, …), single quotes with only \' escaped, a quote closing an argument
 * only before a space or the end of the line. `include` reads another file (or every file a glob
 * matches) in place; `rename-command NAME NEWNAME` renames a command, and `rename-command NAME ""`
 * removes it.
 *
 * Errors stop the server with Redis's report, the offending line and its number within the text read
 * (for an option given on the command line, the file's line count plus its position among the options).
 */
import { closeSync, openSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { globMatch, hasGlob } from '../commands/glob.js';
import { REDIS_COMMAND_NAMES } from '../commands/redis-command-names.js';
import { CommandTable } from '../commands/table.js';
import { SERVER_VERSION } from '../version.js';
import { Config } from './config.js';
import { DEPRECATED_DIRECTIVES, lookupParameter, type Parameter } from './parameters.js';
import { errnoText } from './special-parameters.js';
import { ConfigValueError, quoteRepr } from './values.js';

/** The server cannot start with this configuration; the message is what redis-server prints. */
export class ConfigFileError extends Error {}

const HEX: Record<string, true> = Object.fromEntries([...'0123456789abcdefABCDEF'].map((c) => [c, true]));
const ESCAPES: Record<string, string> = { n: '\n', r: '\r', t: '\t', b: '\b', a: '\x07' };

function isSpace(ch: string | undefined): boolean {
  return ch === ' ' || ch === '\n' || ch === '\r' || ch === '\t' || ch === '\v' || ch === '\f';
}

/** Redis's sdssplitargs: the arguments of one line, or undefined when its quotes are unbalanced. */
export function splitArgs(line: string): string[] | undefined {
  const args: string[] = [];
  let i = 0;
  for (;;) {
    while (isSpace(line[i])) i++;
    if (i >= line.length) return args;
    let current = '';
    let quote: '"' | "'" | undefined;
    for (;;) {
      const ch = line[i];
      if (quote === '"') {
        if (ch === undefined) return undefined;
        if (ch === '\\' && line[i + 1] === 'x' && HEX[line[i + 2]] && HEX[line[i + 3]]) {
          current += String.fromCharCode(Number.parseInt(line.slice(i + 2, i + 4), 16));
          i += 3;
        } else if (ch === '\\' && i + 1 < line.length) {
          i++;
          current += ESCAPES[line[i]] ?? line[i];
        } else if (ch === '"') {
          // A closing quote must be followed by a space or the end of the line.
          if (i + 1 < line.length && !isSpace(line[i + 1])) return undefined;
          i++;
          break;
        } else current += ch;
      } else if (quote === "'") {
        if (ch === undefined) return undefined;
        if (ch === '\\' && line[i + 1] === "'") {
          i++;
          current += "'";
        } else if (ch === "'") {
          if (i + 1 < line.length && !isSpace(line[i + 1])) return undefined;
          i++;
          break;
        } else current += ch;
      } else if (ch === undefined || isSpace(ch)) break;
      else if (ch === '"' || ch === "'") quote = ch;
      else current += ch;
      i++;
    }
    args.push(current);
  }
}

function fatal(lineNumber: number, line: string, message: string): ConfigFileError {
  return new ConfigFileError(
    `\n*** FATAL CONFIG FILE ERROR (Redis ${SERVER_VERSION}) ***\nReading the configuration file, at line ${lineNumber}\n>>> '${line}'\n${message}\n`,
  );
}

/** A problem found once every line is read, reported without a line, as Redis does. */
function fatalAfterLoad(message: string): ConfigFileError {
  return new ConfigFileError(`\n*** FATAL CONFIG FILE ERROR (Redis ${SERVER_VERSION}) ***\n${message}\n`);
}

function cannotOpen(path: string, error: unknown): ConfigFileError {
  return new ConfigFileError(`Fatal error, can't open config file '${path}': ${errnoText(error)}\n`);
}

/** What the command line asks for: the config file, whether to read stdin too, and the options as directives. */
export interface CommandLine {
  file?: string;
  stdin: boolean;
  options: string;
}

/**
 * redis-server's reading of argv: a first argument not starting with '-' is the config file; `-` (first
 * or last) reads more configuration from stdin; `--name` starts a directive and the arguments up to the
 * next `--name` are its values, quoted. A name with no value yet takes the next argument even if it
 * starts with `--`, except that `--save` followed by an option (or by nothing) means `save ""`.
 */
export function parseCommandLine(argv: readonly string[]): CommandLine {
  const result: CommandLine = { stdin: false, options: '' };
  let i = 0;
  if (argv.length > 0 && !argv[0].startsWith('-')) result.file = argv[i++];
  let options = '';
  let nameNeedsValue = false;
  for (; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '-' && (i === 0 || i === argv.length - 1)) {
      result.stdin = true;
    } else if (arg.startsWith('--') && !nameNeedsValue) {
      if (options.length > 0) options += '\n';
      options += `${arg.slice(2)} `;
      // "--port 6380" as one argument carries its value already.
      nameNeedsValue = (splitArgs(arg) ?? []).length === 1;
      if (nameNeedsValue && arg.toLowerCase() === '--save') {
        const last = i === argv.length - 1;
        if (last || argv[i + 1].startsWith('--')) {
          options += '""';
          nameNeedsValue = last;
        }
      }
    } else {
      options += `${quoteRepr(arg)} `;
      nameNeedsValue = false;
    }
  }
  result.options = options;
  return result;
}

/** The files an include names: the path itself, or the files a glob in it matches, sorted as glob(3) sorts. */
function expandInclude(pattern: string): string[] {
  if (!hasGlob(pattern)) return [pattern];
  let paths = [pattern.startsWith('/') ? '/' : '.'];
  for (const part of pattern.split('/').filter((p) => p !== '')) {
    const next: string[] = [];
    for (const base of paths) {
      if (!hasGlob(part)) {
        next.push(join(base, part));
        continue;
      }
      let entries: string[] = [];
      try {
        entries = readdirSync(base);
      } catch {
        continue;
      }
      const glob = Buffer.from(part, 'latin1');
      for (const entry of entries.sort()) {
        if (entry.startsWith('.') && !part.startsWith('.')) continue;
        if (globMatch(glob, Buffer.from(entry, 'latin1'))) next.push(join(base, entry));
      }
    }
    paths = next;
  }
  return paths.map((path) => (pattern.startsWith('/') ? path : path.replace(/^\.\//, '')));
}

function readConfigText(pattern: string): string {
  let text = '';
  for (const path of expandInclude(pattern)) {
    try {
      text += readFileSync(path, 'latin1');
    } catch (error) {
      throw cannotOpen(resolve(path), error);
    }
  }
  return text;
}

/** Directives that are not parameters, and what sabre does with them. */
const DEFAULT_USER = /^user default on nopass (sanitize-payload )?~\* &\* \+@all$/;

class Loader {
  /** Parameters already set in this load: a repeated `save` adds to the first instead of replacing it. */
  private readonly loaded = new Set<Parameter>();
  /** The command names in force, Redis's and sabre's, as renames change them. */
  private readonly commandNames = new Set(REDIS_COMMAND_NAMES);

  constructor(
    private readonly config: Config,
    private readonly table: CommandTable,
  ) {
    for (const spec of table.all()) this.commandNames.add(spec.name);
  }

  read(text: string): void {
    const lines = text.split('\n');
    for (let index = 0; index < lines.length; index++) {
      const line = lines[index].replace(/^[ \t\r\n]+|[ \t\r\n]+$/g, '');
      if (line === '' || line.startsWith('#')) continue;
      const args = splitArgs(line);
      if (args === undefined) throw fatal(index + 1, line, 'Unbalanced quotes in configuration line');
      if (args.length === 0) continue;
      const problem = this.directive(args, line);
      if (problem !== undefined) throw fatal(index + 1, line, problem);
    }
  }

  private directive(args: string[], line: string): string | undefined {
    const name = args[0].toLowerCase();
    if (name === 'include' && args.length === 2) {
      this.read(readConfigText(args[1]));
      return undefined;
    }
    if (name === 'rename-command' && args.length === 3) return this.rename(args[1], args[2]);
    if (name === 'user' && args.length >= 2) {
      return DEFAULT_USER.test(line.replace(/\s+/g, ' ')) ? undefined : 'sabre does not support ACL users yet (only the default user, with no password)';
    }
    if (name === 'loadmodule' && args.length >= 2) return 'sabre cannot load Redis modules';
    const parameter = lookupParameter(name);
    if (parameter === undefined) {
      return DEPRECATED_DIRECTIVES.has(name) ? undefined : 'Bad directive or wrong number of arguments';
    }
    let values = args.slice(1);
    const multiArg = parameter.type === 'special' && parameter.codec.multiArg;
    if (!multiArg && values.length !== 1) return 'wrong number of arguments';
    if (multiArg && values.length === 1 && values[0] !== '') values = values[0].split(' ');
    try {
      this.config.load(parameter, values, this.loaded.has(parameter));
    } catch (error) {
      if (error instanceof ConfigValueError) return error.message;
      throw error;
    }
    this.loaded.add(parameter);
    return undefined;
  }

  /**
   * Checked against every command Redis has, so a config written for Redis loads; only commands in
   * sabre's table are recorded, since the others answer as unknown under any name anyway.
   */
  private rename(from: string, to: string): string | undefined {
    const [source, target] = [from.toLowerCase(), to.toLowerCase()];
    if (!this.commandNames.has(source)) return 'No such command in rename-command';
    if (target !== '' && this.commandNames.has(target)) return 'Target command name already exists';
    this.commandNames.delete(source);
    if (target !== '') this.commandNames.add(target);
    if (this.table.get(source) !== undefined) {
      this.table.rename(source, target);
      this.config.renames.push([source, target]);
    }
    return undefined;
  }
}

export function loadConfig(commandLine: CommandLine, readStdin: () => string = () => readFileSync(0, 'latin1')): Config {
  const file = commandLine.file === undefined ? undefined : resolve(commandLine.file);
  const config = new Config(file);
  let text = file === undefined ? '' : readConfigText(file);
  if (commandLine.stdin) text += readStdin();
  text += `\n${commandLine.options}`;
  new Loader(config, new CommandTable()).read(text);
  const logfile = config.get('logfile');
  if (logfile !== '') {
    try {
      closeSync(openSync(logfile, 'a'));
    } catch (error) {
      throw fatalAfterLoad(`Can't open the log file: ${errnoText(error)}`);
    }
  }
  return config;
}
