// `npx cem analyze --config custom-elements-manifest.config.mjs` writes dist/custom-elements.json
// from the elements' JSDoc (@csspart, @cssprop, @fires, @tagname) and their Lit properties.

/**
 * The analyzer reads `static properties` but not their `state: true`, so it lists private
 * reactive state (`_own`, …) as attributes. State is never an attribute: drop those.
 */
function dropStateAttributes() {
  return {
    name: 'blogtalk-drop-state-attributes',
    packageLinkPhase({ customElementsManifest }) {
      for (const module of customElementsManifest.modules ?? []) {
        for (const declaration of module.declarations ?? []) {
          if (!declaration.attributes) continue;
          const privateFields = new Set(
            (declaration.members ?? []).filter((member) => member.privacy === 'private').map((member) => member.name),
          );
          declaration.attributes = declaration.attributes.filter((attribute) => !privateFields.has(attribute.fieldName));
        }
      }
    },
  };
}

export default {
  globs: ['src/**/*.ts'],
  exclude: ['src/**/*.test.ts', 'src/**/*.d.ts', 'src/admin/**'],
  outdir: 'dist',
  litelement: true,
  packagejson: false,
  plugins: [dropStateAttributes()],
};
