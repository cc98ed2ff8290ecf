/**
 * The package's own version, read from its package.json (one place to bump), so that a store can name
 * the allocator it runs on (Redis's INFO `mem_allocator:jemalloc-5.3.0`). The file sits one level above
 * both src/ and dist/, so the same relative URL finds it from either.
 */
import { readFileSync } from 'node:fs';

export const ALLOCATOR_VERSION: string = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;
