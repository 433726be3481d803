/** Durations as the seed's `MicrosToMillis` prints them, e.g. in `task [Title] completed in [19.999ms]`. */

/**
 * Whole milliseconds from 20 ms up (`20500` -> `20ms`, truncated); below that, three decimals unless the
 * value is a whole number of milliseconds (`19999` -> `19.999ms`, `1000` -> `1ms`, `1500` -> `1.500ms`).
 * A fractional input is truncated to whole microseconds first, as the seed's integer input would be.
 */
export function microsToMillis(us: number): string {
  if (!Number.isFinite(us)) throw new TypeError(`microsToMillis: expected a finite number of microseconds, got ${us}`);
  const micros = Math.trunc(us);
  const millis = Math.trunc(micros / 1000);
  if (millis >= 20 || micros % 1000 === 0) return `${millis}ms`;
  return `${(micros / 1000).toFixed(3)}ms`;
}
