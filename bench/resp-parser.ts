/**
 * Micro-benchmark of the RESP request parser (src/protocol/request-parser.ts) against a straightforward
 * parser of the kind one writes first: decode the bytes to a string, split on CRLF, walk the lines.
 *
 * Workload: one pipeline of 1000 `SET key:NNNN value` and 1000 `GET key:NNNN` (multibulk, as clients
 * send them, 65 KB), parsed whole from one buffer and again from 4 KiB chunks, which makes commands
 * straddle chunk boundaries the way socket reads cut them. One task iteration parses the whole pipeline;
 * commands/s = 2000 / mean iteration time (tinybench's period).
 *
 * The naive parser is not a strawman of correctness but of method: it ignores the `$len` lines, so a
 * value holding CRLF breaks it, and it returns strings, not bytes. Both are kept honest by checking the
 * command count of every run.
 */
import { Bench } from 'tinybench';
import { RequestParser } from '../src/protocol/request-parser.js';
import { formatMillis, formatOpsPerSecond, formatPercent, formatSpeedup, markdownTable } from './report.js';

const COMMANDS_PER_KIND = 1000;
const CHUNK_SIZE = 4096;

function multibulk(args: readonly string[]): string {
  return `*${args.length}\r\n${args.map((arg) => `$${Buffer.byteLength(arg)}\r\n${arg}\r\n`).join('')}`;
}

function pipeline(): Buffer {
  const frames: string[] = [];
  for (let i = 0; i < COMMANDS_PER_KIND; i++) frames.push(multibulk(['SET', `key:${String(i).padStart(4, '0')}`, 'value']));
  for (let i = 0; i < COMMANDS_PER_KIND; i++) frames.push(multibulk(['GET', `key:${String(i).padStart(4, '0')}`]));
  return Buffer.from(frames.join(''), 'latin1');
}

/** Split on CRLF and walk the lines; the unfinished tail is kept as a string for the next chunk. */
class NaiveParser {
  private pending = '';

  feed(chunk: Buffer): string[][] {
    const lines = (this.pending + chunk.toString('latin1')).split('\r\n');
    const commands: string[][] = [];
    let line = 0;
    // The last element is whatever followed the final CRLF: never a complete line.
    while (line < lines.length - 1 && lines[line].startsWith('*')) {
      const count = Number(lines[line].slice(1));
      if (line + 2 * count >= lines.length - 1) break;
      const argv: string[] = [];
      for (let a = 0; a < count; a++) argv.push(lines[line + 2 + 2 * a]);
      commands.push(argv);
      line += 1 + 2 * count;
    }
    this.pending = lines.slice(line).join('\r\n');
    return commands;
  }
}

function parseWithSabre(chunks: readonly Buffer[]): number {
  const parser = new RequestParser();
  let commands = 0;
  for (const chunk of chunks) {
    parser.feed(chunk);
    while (parser.next() !== undefined) commands++;
  }
  return commands;
}

function parseNaively(chunks: readonly Buffer[]): number {
  const parser = new NaiveParser();
  let commands = 0;
  for (const chunk of chunks) commands += parser.feed(chunk).length;
  return commands;
}

interface Row {
  input: string;
  parser: string;
  commandsPerSecond: number;
  iterationMillis: number;
  relativeMarginOfError: number;
}

/** Runs the benchmark (about 6 s) and returns its markdown table with notes. */
export async function runRespBench(options: { timeMs?: number; warmupMs?: number } = {}): Promise<string> {
  const whole = pipeline();
  const chunked: Buffer[] = [];
  for (let at = 0; at < whole.length; at += CHUNK_SIZE) chunked.push(whole.subarray(at, at + CHUNK_SIZE));
  const inputs = [
    { name: `one ${Math.round(whole.length / 1000)} KB buffer`, chunks: [whole] },
    { name: `${chunked.length} chunks of 4 KiB`, chunks: chunked },
  ];
  const parsers = [
    { name: 'sabre RequestParser', parse: parseWithSabre },
    { name: 'naive split on CRLF', parse: parseNaively },
  ];
  const expected = 2 * COMMANDS_PER_KIND;

  const bench = new Bench({ time: options.timeMs ?? 1000, warmupTime: options.warmupMs ?? 250, throws: true });
  for (const input of inputs) {
    for (const parser of parsers) {
      bench.add(`${input.name} / ${parser.name}`, () => {
        const count = parser.parse(input.chunks);
        if (count !== expected) throw new Error(`${parser.name} parsed ${count} commands, expected ${expected}`);
      });
    }
  }
  await bench.run();

  const rows: Row[] = bench.tasks.map((task) => {
    const result = task.result;
    if (result.state !== 'completed') throw new Error(`RESP bench task ${task.name} ended ${result.state}`);
    const [input, parser] = task.name.split(' / ');
    return {
      input,
      parser,
      commandsPerSecond: (expected * 1000) / result.period,
      iterationMillis: result.period,
      relativeMarginOfError: result.latency.rme,
    };
  });
  const naiveRate = (input: string): number => rows.find((row) => row.input === input && row.parser === parsers[1].name)!.commandsPerSecond;
  const table = markdownTable(
    ['input', 'parser', 'commands/s', '± (95%)', 'per pipeline', 'vs naive'],
    rows.map((row) => [
      row.input,
      row.parser,
      formatOpsPerSecond(row.commandsPerSecond),
      formatPercent(row.relativeMarginOfError),
      formatMillis(row.iterationMillis),
      formatSpeedup(row.commandsPerSecond / naiveRate(row.input)),
    ]),
    ['left', 'left'],
  );
  return [
    table,
    '',
    `Pipeline: ${COMMANDS_PER_KIND} \`SET key:NNNN value\` then ${COMMANDS_PER_KIND} \`GET key:NNNN\`, RESP multibulk, ` +
      `${whole.length} bytes; one iteration parses all ${expected} commands. sabre returns each argv as Buffers viewing the ` +
      'input (zero-copy); the naive parser decodes to a string, splits on CRLF and returns strings, ignoring `$len` ' +
      '(so it is not binary-safe).',
  ].join('\n');
}
