/** Served by the blogtalk-server plugin in web-test-runner.config.mjs. */
declare module '*/__blogtalk__/server.js' {
  /** The reference server for this run, e.g. http://127.0.0.1:40123. */
  export const server: string;
  /** The test site's origin (https://blog.test): posts are `${blog}/<path>`. */
  export const blog: string;
  /** The fault-injecting proxy in front of `server` (test/support/fault-proxy.ts). */
  export const proxy: string;
  /** `BLOGTALK_SEED` from the environment, for replaying a randomised test; '' when unset. */
  export const seed: string;
}
