/**
 * The job runner: runs the store's durable jobs (`JobStore`) by kind, after the request that
 * queued them. Every instance runs one; claims are leased, so several instances on one
 * PostgreSQL share the work and a job whose runner died runs again when its lease ends.
 *
 * It polls every `pollMs` and wakes at once when this instance enqueues. A handler that throws
 * is retried with exponential backoff until `maxAttempts`, then kept as `dead` with its last
 * error (logged). `stop()` (on `app.close()`) stops polling and waits for the jobs running now.
 */
import type { Job, JobStore, NewJob } from '../store/store.js';

/** Runs one job; throwing means "failed, retry later". */
export type JobHandler = (payload: unknown, job: Job) => Promise<void>;

export interface JobRunnerOptions {
  store: JobStore;
  handlers: Record<string, JobHandler>;
  /** The clock (injectable for tests): due times, leases and backoff are read from it. */
  now?: () => Date;
  /** How often to look for due jobs (default 5 s). */
  pollMs?: number;
  /** How long a claim lasts before another runner may take the job (default 5 min). */
  leaseMs?: number;
  /** Jobs claimed at a time (default 10). */
  batch?: number;
  /** Delay before attempt `attempts + 1` (default 30 s doubling, at most 1 h). */
  backoffMs?: (attempts: number) => number;
  log?: { warn(object: object, message: string): void; error(object: object, message: string): void };
}

export const defaultBackoffMs = (attempts: number): number => Math.min(30_000 * 2 ** Math.max(0, attempts - 1), 3_600_000);

export class JobRunner {
  readonly #store: JobStore;
  readonly #handlers: Record<string, JobHandler>;
  readonly #now: () => Date;
  readonly #pollMs: number;
  readonly #leaseMs: number;
  readonly #batch: number;
  readonly #backoff: (attempts: number) => number;
  readonly #log: JobRunnerOptions['log'];
  #timer: NodeJS.Timeout | undefined;
  #wakeTimer: NodeJS.Immediate | undefined;
  #running: Promise<number> | null = null;
  #again = false;
  #stopped = false;

  constructor(options: JobRunnerOptions) {
    this.#store = options.store;
    this.#handlers = options.handlers;
    this.#now = options.now ?? (() => new Date());
    this.#pollMs = options.pollMs ?? 5_000;
    this.#leaseMs = options.leaseMs ?? 5 * 60_000;
    this.#batch = options.batch ?? 10;
    this.#backoff = options.backoffMs ?? defaultBackoffMs;
    this.#log = options.log;
  }

  /** Starts polling. */
  start(): void {
    if (this.#stopped || this.#timer) return;
    this.#timer = setInterval(() => this.wake(), this.#pollMs);
    this.#timer.unref();
    this.wake();
  }

  /** Adds a job and wakes this runner; the job's id, or null when its dedupe key is taken. */
  async enqueue(job: NewJob): Promise<number | null> {
    const id = await this.#store.enqueueJob(job, this.#now());
    if (id !== null && job.runAt.getTime() <= this.#now().getTime()) this.wake();
    return id;
  }

  /** Looks for due jobs soon (on the next turn of the event loop). */
  wake(): void {
    if (this.#stopped || this.#wakeTimer) return;
    this.#wakeTimer = setImmediate(() => {
      this.#wakeTimer = undefined;
      void this.runDue().catch((error: unknown) => this.#log?.error({ err: error }, 'job runner: claiming jobs failed'));
    });
  }

  /**
   * Runs due jobs until none is left (jobs they enqueue included); how many ran. One pass at a
   * time: a call during a pass makes that pass look again, and returns when it ends.
   */
  runDue(): Promise<number> {
    if (this.#running) {
      this.#again = true;
      return this.#running;
    }
    const pass = (async () => {
      let ran = 0;
      try {
        do {
          this.#again = false;
          for (;;) {
            if (this.#stopped) return ran;
            const jobs = await this.#store.claimJobs(this.#now(), this.#leaseMs, this.#batch);
            if (!jobs.length) break;
            for (const job of jobs) await this.#run(job);
            ran += jobs.length;
          }
        } while (this.#again);
        return ran;
      } finally {
        this.#running = null;
      }
    })();
    this.#running = pass;
    return pass;
  }

  /** Stops polling and waits for the pass running now (its jobs finish; no new ones start). */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearInterval(this.#timer);
    if (this.#wakeTimer) clearImmediate(this.#wakeTimer);
    await this.#running?.catch(() => {});
  }

  async #run(job: Job): Promise<void> {
    const handler = this.#handlers[job.kind];
    try {
      if (!handler) throw new Error(`no handler for jobs of kind "${job.kind}"`);
      await handler(job.payload, job);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      const retry = job.attempts < job.maxAttempts ? new Date(this.#now().getTime() + this.#backoff(job.attempts)) : null;
      await this.#store.failJob(job.id, job.attempts, message, retry, this.#now());
      if (retry) this.#log?.warn({ job: job.id, kind: job.kind, attempts: job.attempts, error: message }, 'job failed; retrying later');
      else this.#log?.error({ job: job.id, kind: job.kind, attempts: job.attempts, error: message }, 'job failed for good (kept as dead)');
      return;
    }
    await this.#store.completeJob(job.id, job.attempts, this.#now());
  }
}
