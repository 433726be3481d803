/**
 * Takes turns of the event loop, one caller per turn: what a caller does when its turn comes (up to its
 * next `await` on I/O) runs alone in that turn. Clients catching up from the store read one page each in
 * turn, so fifty of them never hold the event loop for fifty pages at once.
 */
export class TurnQueue {
  readonly #waiting: (() => void)[] = [];
  #scheduled = false;

  /** Resolves in a later turn of the event loop, after the callers that asked before. */
  next(): Promise<void> {
    return new Promise((resolve) => {
      this.#waiting.push(resolve);
      this.#schedule();
    });
  }

  #schedule(): void {
    if (this.#scheduled || this.#waiting.length === 0) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      this.#waiting.shift()!();
      this.#schedule();
    });
  }
}
