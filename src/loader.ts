/**
 * `dist/blogtalk.js`: the one classic `<script>` a blog embeds. It only notes which script
 * loaded it (its `data-server` and `src` name the comment server; `document.currentScript` is
 * null inside modules) and imports the widget's ES modules that sit next to it (hashed chunks
 * sharing one copy of Lit), hinting the ones the first paint needs with `modulepreload`.
 * Loading it twice is harmless: the second copy does nothing. Works under a strict Content
 * Security Policy: no inline script, no eval, and no Trusted Types sink (`import()` and a
 * link's `href` are not sinks).
 *
 * The build (rollup.config.mjs) compiles this with the entry and its static chunks filled in.
 */

/** What the loader leaves for the modules: the `<script>` that loaded the widget. */
export interface LoaderGlobal {
  blogtalkScript?: HTMLScriptElement | null;
}

/** Imports `entry` (relative to this script), after preload hints for `chunks`. */
export function boot(entry: string, chunks: readonly string[]): void {
  const global = window as LoaderGlobal;
  if (global.blogtalkScript !== undefined) return;
  const script = document.currentScript as HTMLScriptElement | null;
  global.blogtalkScript = script;
  const base = script?.src || document.baseURI;
  for (const chunk of chunks) {
    const link = document.createElement('link');
    link.rel = 'modulepreload';
    link.href = new URL(chunk, base).href;
    (document.head ?? document.documentElement).append(link);
  }
  import(new URL(entry, base).href).catch((error: unknown) => console.error('blogtalk: could not load the widget', error));
}
