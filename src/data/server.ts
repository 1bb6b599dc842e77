/**
 * Where the blogtalk server is. An element's `server` attribute wins; otherwise the
 * `data-server` of the `<script>` that loaded this bundle, else that script's origin (the
 * server usually serves its own bundle), else the origin of this module (the ESM build).
 */

// Captured while the bundle is evaluated: `document.currentScript` is null afterwards, and
// always null for modules, so the classic loader (`src/loader.ts`) notes its script for them.
const current = document.currentScript ?? (window as { blogtalkScript?: HTMLScriptElement | null }).blogtalkScript;
const loader = current instanceof HTMLScriptElement ? current : null;
const moduleUrl = import.meta.url;

/** The server's base URL (origin plus any path, no trailing slash), or null if none is valid. */
export function resolveServer(
  attribute: string | null | undefined,
  script: HTMLScriptElement | null = loader,
  module: string = moduleUrl,
  base: string = document.baseURI,
): string | null {
  const candidates = [
    attribute,
    script?.dataset['server'],
    script?.src && new URL(script.src, base).origin,
    module && new URL(module, base).origin,
  ];
  const chosen = candidates.map((candidate) => candidate?.trim()).find((candidate) => candidate);
  if (!chosen) return null;
  try {
    const url = new URL(chosen, base);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return null;
    return (url.origin + url.pathname).replace(/\/+$/, '');
  } catch {
    return null;
  }
}
