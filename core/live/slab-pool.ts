/**
 * Buffers reused for a run's shared chunks. A chunk stays in memory for seconds (clients behind may
 * still need it), long enough for V8 to move it to the old generation, where a dead buffer waits for a
 * full collection: at a million lines that was 60-80 MiB of garbage buffers at any moment. A chunk's
 * slab comes back here once the feed has dropped it and every socket has written it.
 */
export class SlabPool {
  readonly #slabBytes: number;
  readonly #maxFree: number;
  readonly #free: Buffer[] = [];

  constructor(slabBytes: number, maxFree: number) {
    this.#slabBytes = slabBytes;
    this.#maxFree = maxFree;
  }

  /** A slab for `size` bytes, when that fills at least half of one; null for sizes a slab does not suit. */
  take(size: number): Buffer | null {
    if (size > this.#slabBytes || size < this.#slabBytes / 2) return null;
    return this.#free.pop() ?? Buffer.allocUnsafeSlow(this.#slabBytes);
  }

  give(slab: Buffer): void {
    if (this.#free.length < this.#maxFree) this.#free.push(slab);
  }
}
