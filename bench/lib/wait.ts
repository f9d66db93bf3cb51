// Waiting in tests and benchmarks: poll a condition, sleep, or wait on a callback under a ref'd deadline.

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Polls `fn` every `stepMs` until it returns something truthy, which it returns; throws after `timeoutMs`. */
export async function waitFor<T>(
  what: string,
  fn: () => T | undefined | false | null | Promise<T | undefined | false | null>,
  timeoutMs = 10_000,
  stepMs = 25,
): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(stepMs);
  }
}

// Waiting on something that only an unref'd timer will deliver (the event bus polls on an unref'd
// timer, so a server does not stay up for it) would let the test process's event loop run empty:
// node:test then cancels the test. This keeps a ref'd deadline timer while waiting, and fails clearly.
export function within<T>(ms: number, what: string, executor: (resolve: (v: T) => void) => (() => void) | void): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let cleanup: (() => void) | void = undefined;
    const timer = setTimeout(() => {
      cleanup?.();
      reject(new Error(`timed out after ${ms} ms waiting for ${what}`));
    }, ms);
    cleanup = executor((v) => {
      clearTimeout(timer);
      cleanup?.();
      resolve(v);
    });
  });
}
