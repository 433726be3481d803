/** JSON as every format and the stream write it: two-space indent, of data already made plain. */
export function jsonText(plain: unknown): string {
  return JSON.stringify(plain, null, 2);
}
