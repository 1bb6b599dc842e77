/**
 * Streams an XML export as whole records: each element named in `records` is built into a
 * small tree (its descendants' text and attributes) and handed out when it closes, so memory
 * holds one record at a time however large the file. Elements named in `ignore` (a post's own
 * content, say) are not kept.
 */
import { Parser } from 'htmlparser2';

export interface XmlNode {
  name: string;
  attrs: Record<string, string>;
  text: string;
  children: XmlNode[];
}

/** The text of the first child named `name` (trimmed), or ''. */
export function childText(node: XmlNode, name: string): string {
  return node.children.find((c) => c.name === name)?.text.trim() ?? '';
}

export function child(node: XmlNode, name: string): XmlNode | undefined {
  return node.children.find((c) => c.name === name);
}

export async function* xmlRecords(
  input: AsyncIterable<string | Buffer>,
  records: ReadonlySet<string>,
  ignore: ReadonlySet<string> = new Set(),
): AsyncGenerator<XmlNode> {
  const ready: XmlNode[] = [];
  const stack: XmlNode[] = [];
  let ignoring = 0;
  let failure: Error | null = null;
  const parser = new Parser(
    {
      onopentag(name, attrs) {
        if (ignoring || ignore.has(name)) {
          ignoring += 1;
          return;
        }
        if (!stack.length && !records.has(name)) return;
        const node: XmlNode = { name, attrs, text: '', children: [] };
        stack.at(-1)?.children.push(node);
        stack.push(node);
      },
      ontext(text) {
        if (ignoring) return;
        const node = stack.at(-1);
        if (node) node.text += text;
      },
      onclosetag(name) {
        if (ignoring) {
          ignoring -= 1;
          return;
        }
        const node = stack.at(-1);
        if (!node || node.name !== name) return;
        stack.pop();
        if (!stack.length) ready.push(node);
      },
      onerror(error) {
        failure = error;
      },
    },
    { xmlMode: true, decodeEntities: true },
  );
  const decoder = new TextDecoder('utf-8', { fatal: true });
  for await (const chunk of input) {
    parser.write(typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true }));
    if (failure) throw failure;
    yield* ready.splice(0);
  }
  // A record still open at the end means a truncated file: refuse it rather than guess.
  const unfinished = stack[0]?.name;
  if (unfinished) throw new Error(`the file ends inside <${unfinished}>: it is truncated or not well-formed`);
  parser.end();
  if (failure) throw failure;
  yield* ready.splice(0);
}
