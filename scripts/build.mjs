// `npm run build`: the widget bundle (rollup), its custom elements manifest, and the server
// (tsc). Each step stops the build on error, so a broken tree never leaves a fresh bundle.
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';

const steps = [
  ['rollup', ['-c', 'rollup.config.mjs', '--silent']],
  ['cem', ['analyze', '--config', 'custom-elements-manifest.config.mjs', '--quiet']],
  ['tsc', ['-p', 'tsconfig.server.json']],
];

rmSync('dist', { recursive: true, force: true });
rmSync('build', { recursive: true, force: true });
for (const [bin, args] of steps) {
  const result = spawnSync(`node_modules/.bin/${bin}`, args, { stdio: 'inherit' });
  if (result.status !== 0) {
    console.error(`build: ${bin} ${args.join(' ')} failed`);
    process.exit(result.status ?? 1);
  }
}
