/**
 * Defines a custom element unless the name is already taken — by an earlier copy of this
 * bundle, or by something else on the page — so loading the script twice never throws.
 * Returns whether this call defined it.
 */
export function define(tag: string, ctor: CustomElementConstructor, registry = customElements): boolean {
  if (registry.get(tag)) return false;
  registry.define(tag, ctor);
  return true;
}
