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
