import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CommandInfo } from '../../src/commands/table.js';
import rawCommands from '../../src/commands/redis-commands.json' with { type: 'json' };
import { startRedis, type RunningRedis } from '../helpers/redis-server.js';

describe('the command table against a real redis-server 7', () => {
  let redis: RunningRedis | undefined;
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    await redis?.stop();
  });

  it('holds exactly what COMMAND INFO reports for every command it lists', (context) => {
    if (redis === undefined) {
      context.skip();
      return;
    }
    const ours = rawCommands as unknown as CommandInfo[];
    const names = ours.map((info) => info[0]);
    const theirs = JSON.parse(
      execFileSync('redis-cli', ['-p', String(redis.port), '--json', 'command', 'info', ...names], { encoding: 'utf8' }),
    ) as CommandInfo[];
    const sortSubcommands = (info: CommandInfo): CommandInfo => {
      const copy = [...info] as CommandInfo;
      copy[9] = [...info[9]].map(sortSubcommands).sort((a, b) => a[0].localeCompare(b[0]));
      return copy;
    };
    expect(ours.map(sortSubcommands)).toEqual(theirs.map(sortSubcommands));
  });
});
