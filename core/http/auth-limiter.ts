/**
 * Slows down guessing: after `max` wrong tokens (Bearer or login form) from one address within a
 * window, every token attempt from that address is refused (429) until the window ends, even a right
 * one, or the attacker would learn which guess was right. Sessions already signed in are not affected.
 */

const MAX_KEYS = 10_000;

export interface FailureLimiterOptions {
  max?: number;
  windowMs?: number;
  now?: () => number;
}

export class FailureLimiter {
  readonly #max: number;
  readonly #windowMs: number;
  readonly #now: () => number;
  readonly #failures = new Map<string, { count: number; until: number }>();

  constructor(options: FailureLimiterOptions = {}) {
    this.#max = options.max ?? 10;
    this.#windowMs = options.windowMs ?? 60_000;
    this.#now = options.now ?? Date.now;
  }

  /** Milliseconds until `key` may try again; 0 when it may now. */
  blockedFor(key: string): number {
    const entry = this.#failures.get(key);
    if (!entry) return 0;
    const left = entry.until - this.#now();
    if (left <= 0) {
      this.#failures.delete(key);
      return 0;
    }
    return entry.count >= this.#max ? left : 0;
  }

  fail(key: string): void {
    const now = this.#now();
    // Bounded memory under a spray of addresses: expired entries go first.
    if (this.#failures.size >= MAX_KEYS) {
      for (const [k, e] of this.#failures) if (e.until <= now) this.#failures.delete(k);
      if (this.#failures.size >= MAX_KEYS) this.#failures.delete(this.#failures.keys().next().value!);
    }
    const entry = this.#failures.get(key);
    if (entry && entry.until > now) entry.count++;
    else this.#failures.set(key, { count: 1, until: now + this.#windowMs });
  }
}
