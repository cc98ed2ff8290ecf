/**
 * The live configuration the server holds: one value per parameter, read by the parts that act on it,
 * changed by the config file at startup and by CONFIG SET at run time.
 *
 * CONFIG SET is atomic, as in Redis 7.0: every name is checked first (unknown, immutable, protected,
 * given twice), then every value is parsed, and only then are values stored; a change listener that
 * refuses its new value (a part that cannot take it) puts every value of the command back.
 */
import { globMatch, hasGlob } from '../commands/glob.js';
import {
  allNames,
  lookupParameter,
  PARAMETERS,
  type BoolName,
  type NumericName,
  type Parameter,
  type ParameterName,
} from './parameters.js';
import { ConfigValueError, defaultValue, formatValue, parseValue, type Value } from './values.js';

/** Called with the new value (as CONFIG GET prints it); returns an error message to refuse it. */
export type ChangeListener = (value: string) => string | undefined;

/** Who asks for a change: enable-protected-configs `local` lets loopback clients change protected ones. */
export interface SetterAccess {
  local: boolean;
}

function setFailed(name: string, message: string): string {
  return `ERR CONFIG SET failed (possibly related to argument '${name}') - ${message}`;
}

export class Config {
  private readonly values = new Map<Parameter, Value>();
  private readonly listeners = new Map<Parameter, ChangeListener[]>();
  /** `rename-command` directives, in file order: [old name, new name or "" for removed]. */
  readonly renames: [string, string][] = [];

  /**
   * @param file the configuration file's absolute path, which CONFIG REWRITE writes back; undefined when
   * the server was started without one.
   */
  constructor(readonly file?: string) {
    for (const parameter of PARAMETERS as readonly Parameter[]) this.values.set(parameter, defaultValue(parameter));
  }

  bool(name: BoolName): boolean {
    return this.value(name) as boolean;
  }

  /** A numeric value as a number (exact below 2^53, which every count and size sabre uses is). */
  number(name: NumericName): number {
    return Number(this.value(name));
  }

  /** The value as CONFIG GET prints it. */
  get(name: ParameterName): string {
    const parameter = lookupParameter(name)!;
    return formatValue(parameter, this.values.get(parameter)!);
  }

  isDefault(parameter: Parameter): boolean {
    return this.values.get(parameter) === defaultValue(parameter);
  }

  /** The stored value, for CONFIG REWRITE. */
  stored(parameter: Parameter): Value {
    return this.values.get(parameter)!;
  }

  private value(name: ParameterName): Value {
    return this.values.get(lookupParameter(name)!)!;
  }

  /** `listener` hears every accepted change of `name` (and may refuse it). */
  onChange(name: ParameterName, listener: ChangeListener): void {
    const parameter = lookupParameter(name)!;
    const list = this.listeners.get(parameter) ?? [];
    list.push(listener);
    this.listeners.set(parameter, list);
  }

  /**
   * Takes one directive of a config file (or command line): `args` are its arguments. Listeners are
   * not told; the server reads the loaded values when it starts. Throws ConfigValueError.
   */
  load(parameter: Parameter, args: readonly string[], appending: boolean): void {
    const value = parseValue(parameter, args, this.values.get(parameter)!, appending);
    if (parameter.type === 'special') parameter.codec.apply?.(value as string);
    this.values.set(parameter, value);
  }

  /** CONFIG GET: name → value pairs for the patterns, each name once (the first spelling that found it). */
  match(patterns: readonly string[]): [string, string][] {
    const found = new Map<string, [string, string]>();
    for (const pattern of patterns) {
      if (!hasGlob(pattern)) {
        const parameter = lookupParameter(pattern);
        const key = pattern.toLowerCase();
        if (parameter !== undefined && !found.has(key)) found.set(key, [pattern, formatValue(parameter, this.values.get(parameter)!)]);
        continue;
      }
      const glob = Buffer.from(pattern, 'latin1');
      for (const [name, parameter] of allNames()) {
        if (!found.has(name) && globMatch(glob, Buffer.from(name, 'latin1'), true)) {
          found.set(name, [name, formatValue(parameter, this.values.get(parameter)!)]);
        }
      }
    }
    return [...found.values()];
  }

  /** CONFIG SET name value [name value ...]: undefined when done, else the error reply (nothing changed). */
  set(pairs: readonly [string, string][], access: SetterAccess): string | undefined {
    const parameters: Parameter[] = [];
    const seen = new Set<string>();
    for (const [name] of pairs) {
      const parameter = lookupParameter(name);
      if (parameter === undefined) return `ERR Unknown option or number of arguments for CONFIG SET - '${name}'`;
      if (parameter.immutable === true) return setFailed(name, "can't set immutable config");
      if (parameter.protected === true && !this.protectedAllowed(access)) return setFailed(name, "can't set protected config");
      if (seen.has(name.toLowerCase())) return setFailed(name, 'duplicate parameter');
      seen.add(name.toLowerCase());
      parameters.push(parameter);
    }
    const updates = new Map<Parameter, Value>();
    for (let i = 0; i < pairs.length; i++) {
      const parameter = parameters[i];
      const [name, text] = pairs[i];
      // A multi-argument value is split at spaces; an empty one is no arguments at all.
      const args = parameter.type === 'special' && parameter.codec.multiArg ? (text === '' ? [] : text.split(' ')) : [text];
      try {
        let value = parseValue(parameter, args, updates.get(parameter) ?? this.values.get(parameter)!, false);
        if (parameter.type === 'memory' && parameter.runtimeMin !== undefined && (value as bigint) < parameter.runtimeMin) value = parameter.runtimeMin;
        updates.set(parameter, value);
      } catch (error) {
        // Past the checks of names, Redis names the argument in lower case.
        if (error instanceof ConfigValueError) return setFailed(name.toLowerCase(), error.message);
        throw error;
      }
    }
    const previous = new Map<Parameter, Value>();
    for (const [parameter, value] of updates) {
      if (value === this.values.get(parameter)) continue;
      previous.set(parameter, this.values.get(parameter)!);
      this.values.set(parameter, value);
    }
    for (const parameter of previous.keys()) {
      const refusal = this.applyChange(parameter);
      if (refusal !== undefined) {
        for (const [restored, value] of previous) this.values.set(restored, value);
        for (const restored of previous.keys()) this.applyChange(restored);
        const name = pairs[parameters.indexOf(parameter)][0];
        return setFailed(name.toLowerCase(), refusal);
      }
    }
    return undefined;
  }

  private protectedAllowed(access: SetterAccess): boolean {
    const setting = this.get('enable-protected-configs');
    return setting === 'yes' || (setting === 'local' && access.local);
  }

  private applyChange(parameter: Parameter): string | undefined {
    const value = this.values.get(parameter)!;
    try {
      if (parameter.type === 'special') parameter.codec.apply?.(value as string);
    } catch (error) {
      if (error instanceof ConfigValueError) return error.message;
      throw error;
    }
    const text = formatValue(parameter, value);
    for (const listener of this.listeners.get(parameter) ?? []) {
      const refusal = listener(text);
      if (refusal !== undefined) return refusal;
    }
    return undefined;
  }
}
