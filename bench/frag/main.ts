/**
 * `npm run frag -- --workload <name|all> [--target embedded|host:port] [--out dir] [--keys N] [--seed N] [--no-redis]`
 * `npm run frag -- --pagemap host:port [--out dir]`
 *
 * The command line of the fragmentation lab (lab.ts). Progress goes to stderr, the files written to
 * stdout, one per line.
 */
import { parseArgs } from 'node:util';
import { progress } from '../progress.js';
import { parseAddress, runLab, takePageMap } from './lab.js';
import { WORKLOADS } from './workloads.js';

const USAGE = `usage: npm run frag -- --workload <${[...WORKLOADS.keys()].join('|')}|all> [--target embedded|host:port] [--out dir] [--keys N] [--seed N] [--no-redis]
       npm run frag -- --pagemap host:port [--out dir]`;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      workload: { type: 'string' },
      target: { type: 'string', default: 'embedded' },
      out: { type: 'string', default: 'bench/results/frag' },
      keys: { type: 'string', default: '20000' },
      seed: { type: 'string', default: '5309' },
      'no-redis': { type: 'boolean', default: false },
      pagemap: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help || (values.workload === undefined && values.pagemap === undefined)) {
    process.stderr.write(`${USAGE}\n`);
    process.exitCode = values.help ? 0 : 2;
    return;
  }
  if (values.pagemap !== undefined) {
    for (const file of await takePageMap(parseAddress(values.pagemap), values.out)) process.stdout.write(`${file}\n`);
    return;
  }
  const keys = Number(values.keys);
  if (!Number.isInteger(keys) || keys <= 0) throw new Error(`--keys must be a positive integer, not ${values.keys}`);
  const names = values.workload === 'all' ? [...WORKLOADS.keys()] : [values.workload!];
  for (const workload of names) {
    const files = await runLab(
      {
        workload,
        target: values.target === 'embedded' ? 'embedded' : parseAddress(values.target),
        out: values.out,
        keys,
        seed: Number(values.seed),
        redis: !values['no-redis'],
      },
      progress,
    );
    for (const file of files) process.stdout.write(`${file}\n`);
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
