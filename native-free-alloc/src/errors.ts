/** Why an allocator call was refused. The arena is unchanged when one of these is thrown. */
export type AllocatorErrorCode =
  | 'ENOMEM' // the memory limit would be exceeded
  | 'ETOOLARGE' // the request is above maxAllocationSize
  | 'EINVALID' // not a handle this arena handed out (bad segment, offset or size argument)
  | 'EDOUBLEFREE' // the slot or run is not allocated (freed already)
  | 'ESIZE' // the size given to free/realloc does not match the allocation
  | 'ESTATE'; // the call does not fit the arena's state (a snapshot already running, a closed reader)

export class AllocatorError extends Error {
  constructor(
    readonly code: AllocatorErrorCode,
    message: string,
  ) {
    super(`${code}: ${message}`);
    this.name = 'AllocatorError';
  }
}
