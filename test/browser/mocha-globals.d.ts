/**
 * The few Mocha globals the browser tests use (web-test-runner runs Mocha in the page).
 * Declared here rather than adding @types/mocha: tsconfig.json loads no global types.
 */
interface MochaContext {
  timeout(ms: number): void;
  skip(): never;
}
type MochaTest = (this: MochaContext) => void | Promise<unknown>;
declare function describe(title: string, body: (this: MochaContext) => void): void;
declare function it(title: string, test: MochaTest): void;
declare function before(hook: MochaTest): void;
declare function after(hook: MochaTest): void;
declare function beforeEach(hook: MochaTest): void;
declare function afterEach(hook: MochaTest): void;
