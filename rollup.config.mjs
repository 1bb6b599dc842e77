// Builds the widget:
// - dist/blogtalk.js: the small classic script a blog embeds (src/loader.ts; loading it twice is
//   harmless). It imports dist/chunks/blogtalk-<hash>.js, the ES entry (src/widget.ts), and
//   preloads the chunks that entry imports statically: together, what the first paint needs.
//   Everything else is in further hashed chunks in dist/chunks/, imported on first use or when
//   the browser is idle; all chunks share one copy of Lit.
// - dist/blogtalk.esm.js: every element in one ES module (src/index.ts), for module users.
// - dist/admin.js: the moderation page.
// Type errors fail the build (noEmitOnError in tsconfig.json).
import resolve from '@rollup/plugin-node-resolve';
import terser from '@rollup/plugin-terser';
import typescript from '@rollup/plugin-typescript';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { resolve as resolvePath } from 'node:path';
import { rollup } from 'rollup';
import ts from 'typescript';

/**
 * Squeezes the formatting whitespace out of our Lit `html`/`svg`/`css` templates (terser
 * leaves template literals alone). Only the static parts change; expressions are untouched.
 * HTML: whitespace runs that contain a newline are dropped next to a tag and become one space
 * elsewhere; single-line spaces are kept as written. CSS: comments and spaces around
 * punctuation and leading zeros go.
 */
export function minifyTemplates() {
  const html = (text) =>
    text
      .replace(/\s*\n\s*(?=[<>])/g, '')
      .replace(/(?<=>)\s*\n\s*/g, '')
      .replace(/\s*\n\s*/g, ' ');
  const css = (text) =>
    text
      .replace(/\/\*[\s\S]*?\*\//g, '')
      .replace(/\s+/g, ' ')
      .replace(/\s*([{};,>])\s*/g, '$1')
      .replace(/:\s+/g, ':')
      .replace(/([\s:,(])0\.(\d)/g, '$1.$2')
      .replace(/;}/g, '}')
      .trim();
  return {
    name: 'minify-templates',
    transform(code, id) {
      if (!/\/src\/.*\.[jt]s$/.test(id) || !/\b(html|svg|css)\s*`/.test(code)) return null;
      const source = ts.createSourceFile(id, code, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
      const edits = [];
      const visit = (node) => {
        if (ts.isTaggedTemplateExpression(node) && ['html', 'svg', 'css'].includes(node.tag.getText(source))) {
          const squeeze = node.tag.getText(source) === 'css' ? css : html;
          const template = node.template;
          const parts = ts.isNoSubstitutionTemplateLiteral(template)
            ? [[template, 1, 1]]
            : [[template.head, 1, 2], ...template.templateSpans.map((span) => [span.literal, 1, ts.isTemplateTail(span.literal) ? 1 : 2])];
          for (const [literal, open, close] of parts) {
            const start = literal.getStart(source) + open;
            const end = literal.getEnd() - close;
            const text = code.slice(start, end);
            const squeezed = squeeze(text);
            if (squeezed !== text) edits.push([start, end, squeezed]);
          }
        }
        ts.forEachChild(node, visit);
      };
      visit(source);
      let out = code;
      for (const [start, end, text] of edits.sort((a, b) => b[0] - a[0])) out = out.slice(0, start) + text + out.slice(end);
      return { code: out, map: null };
    },
  };
}

/**
 * The catalogs of languages other than English (`src/i18n/*.json`) are not bundled: they are
 * written to `dist/i18n/` (minified), where the comment server serves them to the widget.
 */
export function catalogs() {
  return {
    name: 'catalogs',
    buildStart() {
      for (const name of readdirSync('src/i18n')) {
        if (!name.endsWith('.json')) continue;
        this.addWatchFile(`src/i18n/${name}`);
        const source = JSON.stringify(JSON.parse(readFileSync(`src/i18n/${name}`, 'utf8')));
        this.emitFile({ type: 'asset', fileName: `i18n/${name}`, source });
      }
    },
  };
}

/**
 * Writes dist/blogtalk.js once the split build knows its file names: src/loader.ts compiled to
 * a classic script that boots the entry chunk with modulepreload hints for the entry's static
 * imports (all of them, transitively), which the first paint needs.
 */
export function classicLoader(fileName = 'blogtalk.js') {
  return {
    name: 'classic-loader',
    buildStart() {
      rmSync('dist/chunks', { recursive: true, force: true }); // no stale chunks from an earlier build
    },
    async generateBundle(_options, bundle) {
      const entry = Object.values(bundle).find((file) => file.type === 'chunk' && file.isEntry);
      const statics = new Set();
      const visit = (name) => {
        for (const dep of bundle[name].imports) if (!statics.has(dep)) statics.add(dep), visit(dep);
      };
      visit(entry.fileName);
      const id = '\0blogtalk-loader';
      const rel = (name) => `./${name}`;
      const source = `import { boot } from ${JSON.stringify(resolvePath('src/loader.ts'))};
boot(${JSON.stringify(rel(entry.fileName))}, ${JSON.stringify([...statics].map(rel))});`;
      const build = await rollup({
        input: id,
        plugins: [
          { name: 'loader-entry', resolveId: (s) => (s === id ? id : null), load: (s) => (s === id ? source : null) },
          {
            name: 'transpile',
            transform: (code, file) =>
              file.endsWith('.ts')
                ? ts.transpileModule(code, { compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext } }).outputText
                : null,
          },
          terser({ ecma: 2022, compress: { passes: 2 }, format: { comments: false } }),
        ],
      });
      const { output } = await build.generate({ format: 'iife' });
      await build.close();
      this.emitFile({ type: 'asset', fileName, source: output[0].code });
    },
  };
}

const plugins = () => [
  // Lit's production build (the default export condition), not its development one.
  resolve({ browser: true }),
  typescript({ tsconfig: './tsconfig.json', include: ['src/**/*.ts'], compilerOptions: { target: 'ES2022' } }),
  minifyTemplates(),
  terser({ ecma: 2022, compress: { passes: 2 }, format: { comments: false } }),
];

export default [
  // The widget for the script tag: the loader and the hashed chunks (with the translations).
  {
    input: { blogtalk: 'src/widget.ts' },
    output: { dir: 'dist', format: 'es', entryFileNames: 'chunks/[name]-[hash].js', chunkFileNames: 'chunks/[name]-[hash].js' },
    plugins: [...plugins(), catalogs(), classicLoader()],
  },
  // Every element in one ES module.
  {
    input: 'src/index.ts',
    output: { file: 'dist/blogtalk.esm.js', format: 'es', inlineDynamicImports: true },
    plugins: plugins(),
  },
  // The owners' moderation page (/admin): its own bundle, never part of blogtalk.js.
  {
    input: 'src/admin/moderation-page.ts',
    output: { file: 'dist/admin.js', format: 'iife', name: 'blogtalkAdmin' },
    plugins: plugins(),
  },
];
