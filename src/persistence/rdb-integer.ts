/** The decimal text of an integer, the form every integer element read from RDB takes. */
export function integerText(value: number | bigint): Buffer {
  return Buffer.from(value.toString(), 'latin1');
}
