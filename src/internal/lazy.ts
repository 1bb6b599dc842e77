/**
 * Parts of the widget that are not needed for its first paint (the composer and sign-in, the
 * outbox, Edit and Report, likes, live updates) are separate chunks, loaded by dynamic `import()`
 * on first use or when the browser is idle. These helpers keep that loading in one shape.
 */

/**
 * A module loaded once, on demand: `load()` starts the import (once) and resolves with the
 * module; `value` is the module once it has arrived (undefined before). `then` runs after it
 * arrives (say, to re-render).
 */
export interface Lazy<T> {
  readonly value: T | undefined;
  load(): Promise<T>;
  /** Called by the module itself when it is imported statically (say, by `index.ts`): no wait then. */
  provide(value: T): void;
}

export function lazy<T>(importer: () => Promise<T>, then?: (value: T) => void): Lazy<T> {
  let promise: Promise<T> | undefined;
  const part: Lazy<T> & { value: T | undefined } = {
    value: undefined,
    provide: (value) => {
      part.value = value;
      promise = Promise.resolve(value);
    },
    load: () =>
      (promise ??= importer().then(
        (value) => {
          part.value = value;
          then?.(value);
          return value;
        },
        (error: unknown) => {
          promise = undefined; // a failed load (offline) is tried again on the next use
          throw error;
        },
      )),
  };
  return part;
}

/** Runs `task` when the browser is idle (`requestIdleCallback`), at the latest after `timeout` ms. */
export function whenIdle(task: () => void, timeout = 2000): void {
  if (typeof requestIdleCallback === 'function') requestIdleCallback(task, { timeout });
  else setTimeout(task, 200);
}
