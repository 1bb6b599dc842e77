// Builds the widget: dist/blogtalk.js (one minified IIFE with every element, for a plain
// <script> tag; loading it twice is harmless) and dist/blogtalk.esm.js (the same as an ES
// module). Type errors fail the build (noEmitOnError in tsconfig.json).
import resolve from '@rollup/plugin-node-resolve';
import terser from '@rollup/plugin-terser';
import typescript from '@rollup/plugin-typescript';
import { readdirSync, readFileSync } from 'node:fs';
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

const plugins = () => [
  // Lit's production build (the default export condition), not its development one.
  resolve({ browser: true }),
  typescript({ tsconfig: './tsconfig.json', include: ['src/**/*.ts'], compilerOptions: { target: 'ES2022' } }),
  minifyTemplates(),
  terser({ ecma: 2022, compress: { passes: 2 }, format: { comments: false } }),
];

export default [
  {
    input: 'src/index.ts',
    output: [
      { file: 'dist/blogtalk.js', format: 'iife', name: 'blogtalk' },
      { file: 'dist/blogtalk.esm.js', format: 'es' },
    ],
    plugins: [...plugins().slice(0, 3), catalogs(), ...plugins().slice(3)],
  },
  // The owners' moderation page (/admin): its own bundle, never part of blogtalk.js.
  {
    input: 'src/admin/moderation-page.ts',
    output: { file: 'dist/admin.js', format: 'iife', name: 'blogtalkAdmin' },
    plugins: plugins(),
  },
];
