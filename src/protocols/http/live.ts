// What one access has open right now (responses in flight, websockets), to cut when the session ends.
//
// A doubly linked list whose removed entries drop their links, not a Set: a busy Set's replaced hash
// tables stay linked to their successors, and once one is promoted it keeps every later request alive.

export interface Closable {
  destroy(): void;
}

export interface LiveEntry {
  readonly item: Closable;
  prev: LiveEntry | null;
  next: LiveEntry | null;
  /** The list it is in; null once removed (removing again does nothing). */
  list: LiveList | null;
}

export class LiveList {
  private head: LiveEntry | null = null;
  size = 0;

  add(item: Closable): LiveEntry {
    const e: LiveEntry = { item, prev: null, next: this.head, list: this };
    if (this.head) this.head.prev = e;
    this.head = e;
    this.size++;
    return e;
  }

  remove(e: LiveEntry): void {
    if (e.list !== this) return;
    if (e.prev) e.prev.next = e.next;
    else this.head = e.next;
    if (e.next) e.next.prev = e.prev;
    e.prev = e.next = null;
    e.list = null;
    this.size--;
  }

  /** Destroys every entry and empties the list. Entries are all detached first, so close handlers that remove entries meanwhile change nothing. */
  destroyAll(): void {
    const items: Closable[] = [];
    for (let e = this.head; e;) {
      const next: LiveEntry | null = e.next;
      e.prev = e.next = null;
      e.list = null;
      items.push(e.item);
      e = next;
    }
    this.head = null;
    this.size = 0;
    for (const item of items) item.destroy();
  }
}
