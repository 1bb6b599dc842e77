/**
 * Stores imported comments as they stream in: up to a window of them in flight at once, a
 * reply held back until its parent is stored, each outcome tallied in the import report with
 * the line (or record number) it came from.
 */
import type { NewComment, Store } from '../store/store.js';

export interface ImportReport {
  site: string;
  /** Stored by this import. */
  imported: number;
  /** Already there with the same content (an import run again adds nothing). */
  unchanged: number;
  /** Left out on purpose (spam, trash, deleted in the source). */
  skipped: number;
  /** Records not imported, with why. */
  problems: { line: number; reason: string }[];
}

/** How many comments an import keeps in flight at once. */
const WINDOW = 256;
/**
 * How many recently queued ids an import remembers, so that a reply to one of them (replies
 * mostly follow their parents closely) need not ask the store. Older parents are looked up:
 * memory stays bounded however long the file is.
 */
const RECENT_IDS = 4_096;

export class ImportWriter {
  readonly report: ImportReport;
  readonly #inFlight = new Map<string, Promise<void>>();
  /** The ids this import queued last (at most RECENT_IDS, oldest first). */
  readonly #recent = new Set<string>();
  /** Replies waiting for a parent that has not come yet, by parent id. */
  readonly #waiting = new Map<string, { line: number; input: NewComment }[]>();

  constructor(
    private readonly store: Store,
    site: string,
  ) {
    this.report = { site, imported: 0, unchanged: 0, skipped: 0, problems: [] };
  }

  problem(line: number, reason: string): void {
    this.report.problems.push({ line, reason });
  }

  skip(): void {
    this.report.skipped += 1;
  }

  /**
   * Queues one comment; resolves once it may be followed by the next. A reply whose parent
   * is neither stored nor imported yet waits for it (some exports are not in thread order).
   */
  async add(line: number, input: NewComment): Promise<void> {
    const parent = input.parentId;
    const known = (id: string) => this.#recent.has(id) || this.#inFlight.has(id);
    if (parent && !known(parent) && !(await this.store.getComment(input.siteId, parent))) {
      const siblings = this.#waiting.get(parent);
      if (siblings) siblings.push({ line, input });
      else this.#waiting.set(parent, [{ line, input }]);
      return;
    }
    await this.#write(line, input);
  }

  async #write(line: number, input: NewComment): Promise<void> {
    this.#recent.add(input.id);
    if (this.#recent.size > RECENT_IDS) this.#recent.delete(this.#recent.values().next().value!);
    if ((input.parentId && this.#inFlight.has(input.parentId)) || this.#inFlight.size >= WINDOW) await this.#drain();
    const job = this.store
      // Imports keep the source's threading, however deep it was.
      .createComment(input, Number.MAX_SAFE_INTEGER)
      .then((result) => {
        if (!result.ok) {
          const reason =
            result.reason === 'idempotency_mismatch' ? 'a different comment with this id is already stored' : result.reason;
          this.problem(line, reason);
        } else if (result.replayed) this.report.unchanged += 1;
        else this.report.imported += 1;
      })
      .catch((error: unknown) => this.problem(line, error instanceof Error ? error.message : String(error)))
      .finally(() => this.#inFlight.delete(input.id));
    this.#inFlight.set(input.id, job);
    const children = this.#waiting.get(input.id);
    this.#waiting.delete(input.id);
    for (const child of children ?? []) await this.#write(child.line, child.input);
  }

  /** Waits for every queued comment; returns the report, problems in line order. */
  async finish(): Promise<ImportReport> {
    await this.#drain();
    for (const orphans of this.#waiting.values()) {
      for (const { line } of orphans) this.problem(line, 'parent_not_found');
    }
    this.#waiting.clear();
    this.report.problems.sort((a, b) => a.line - b.line);
    return this.report;
  }

  async #drain(): Promise<void> {
    await Promise.all(this.#inFlight.values());
  }
}

/** A comment from another system (WordPress, Disqus), before it is made a `NewComment`. */
export interface ForeignComment {
  /** Our id for it: a prefix naming the source plus the source's id, so re-imports match. */
  id: string;
  postUrl: string;
  postTitle: string | null;
  parentId: string | null;
  status: 'published' | 'pending';
  authorName: string;
  authorEmail: string | null;
  authorWebsite: string | null;
  created: Date;
  /** The comment as the source stored it (HTML). */
  html: string;
  /** Whether newlines in `html` are line breaks (WordPress) or mere white space (Disqus). */
  newlinesAreBreaks: boolean;
}
