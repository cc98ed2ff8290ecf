import { describe, expect, it } from 'vitest';
import { CommandFlag, CommandTable, arityMatches, keyPositions } from '../../src/commands/table.js';

describe('the command table', () => {
  const table = new CommandTable();

  it('finds commands in any letter case, and subcommands', () => {
    expect(table.get('GET')?.name).toBe('get');
    expect(table.get('gEt')?.name).toBe('get');
    expect(table.get('nosuchcommand')).toBeUndefined();
    expect(table.get('client')?.subcommands?.get('id')?.name).toBe('client|id');
    expect(table.get('object')?.subcommands?.get('encoding')?.firstKey).toBe(2);
  });

  it('checks arity: exact when positive, at least when negative', () => {
    const get = table.get('get')!;
    expect(arityMatches(get, 2)).toBe(true);
    expect(arityMatches(get, 3)).toBe(false);
    const set = table.get('set')!;
    expect(arityMatches(set, 2)).toBe(false);
    expect(arityMatches(set, 3)).toBe(true);
    expect(arityMatches(set, 8)).toBe(true);
  });

  it('extracts key positions from first, last and step', () => {
    expect(keyPositions(table.get('mset')!, 7)).toEqual([1, 3, 5]);
    expect(keyPositions(table.get('del')!, 4)).toEqual([1, 2, 3]);
    expect(keyPositions(table.get('bitop')!, 5)).toEqual([2, 3, 4]);
    expect(keyPositions(table.get('lcs')!, 3)).toEqual([1, 2]);
    expect(keyPositions(table.get('ping')!, 1)).toEqual([]);
  });

  it('keeps flags as bits', () => {
    const get = table.get('get')!;
    expect(get.flags & CommandFlag.readonly).not.toBe(0);
    expect(get.flags & CommandFlag.fast).not.toBe(0);
    expect(get.flags & CommandFlag.write).toBe(0);
    expect(table.get('set')!.flags & CommandFlag.denyoom).not.toBe(0);
  });

  it('renames and disables commands as rename-command does', () => {
    const renamed = new CommandTable();
    renamed.rename('keys', '');
    renamed.rename('flushall', 'wipe-everything');
    expect(renamed.get('keys')).toBeUndefined();
    expect(renamed.get('flushall')).toBeUndefined();
    expect(renamed.get('WIPE-EVERYTHING')?.name).toBe('flushall');
    expect(renamed.size).toBe(table.size - 1);
  });
});
