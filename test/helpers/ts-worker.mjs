// Bootstrap for TypeScript workers in tests: Node 20 workers do not take `--import tsx`, so this plain
// module registers tsx's loader through its API and then imports the worker named in workerData.
import { workerData } from 'node:worker_threads';
import { tsImport } from 'tsx/esm/api';

await tsImport(workerData.tsFile, import.meta.url);
