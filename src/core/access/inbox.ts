// A queue a producer pushes into from callbacks (bus events, timers) and one async consumer drains.

export class Inbox<T> {
  private readonly items: T[] = [];
  private wake: (() => void) | null = null;
  private closed = false;

  push(item: T): void {
    if (this.closed) return;
    this.items.push(item);
    this.poke();
  }

  /** No more items; a pending next() resolves undefined. */
  close(): void {
    this.closed = true;
    this.poke();
  }

  /** The next item, or undefined once closed. */
  async next(): Promise<T | undefined> {
    while (!this.items.length && !this.closed) await new Promise<void>((resolve) => (this.wake = resolve));
    return this.closed ? undefined : this.items.shift();
  }

  /** Items already queued, without waiting. */
  drain(): T[] {
    return this.items.splice(0);
  }

  private poke(): void {
    const w = this.wake;
    this.wake = null;
    w?.();
  }
}
