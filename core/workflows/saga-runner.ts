import { randomUUID } from 'node:crypto';
import type moleculer from 'moleculer';
import type { Logger } from 'pino';
import type { Database } from '../platform/database/database.ts';

/**
 * A small, explicit saga runner: a workflow is a list of steps, each with `run` and an optional
 * `compensate`. The instance (its data, the step under way) is a row of `workflows.sagas`,
 * written when it starts, after every step that changed its data, before it waits, when it
 * completes, when compensation starts and after every compensation, and whenever half its lease
 * has passed. A process that dies mid-saga leaves a row whose lease runs out; the sweep then
 * takes it over and resumes it at the step last written (that step and any after it that had
 * already run run again, so every step must be idempotent: the actions it calls are idempotent
 * per reference) or, when it was compensating, finishes undoing it. A step that changed no data
 * is not written on its own: running it again after a crash is the same as running it once.
 *
 * A step that throws starts compensation: every step from the failing one back to the first is
 * compensated, newest first (the failing one too: it may have half happened; compensations are
 * idempotent no-ops when there is nothing to undo). A step may also pause the saga until an
 * outside event (`{ wait: 'approval' }`): `resume` continues with the next step, `abort`
 * compensates.
 */

/** How a step calls the mesh: with the meta the saga was started with (the buyer's auth context). */
export interface SagaIo {
  call<T = unknown>(action: string, params: object): Promise<T>;
}

export type StepOutcome<D> = { data?: Partial<D>; wait?: string } | undefined;

export interface SagaStep<D> {
  name: string;
  run(data: D, io: SagaIo): Promise<StepOutcome<D> | undefined>;
  compensate?(data: D, io: SagaIo, reason: string): Promise<void>;
}

export interface SagaDefinition<D> {
  kind: string;
  steps: ReadonlyArray<SagaStep<D>>;
}

export type SagaStatus = 'running' | 'waiting' | 'compensating' | 'completed' | 'compensated';

export interface SagaResult<D> {
  id: string;
  status: SagaStatus;
  data: D;
  waitingFor: string | null;
  /** The error that started compensation (as thrown, when it happened in this call). */
  error?: unknown;
}

interface Stored<D> {
  data: D;
  meta: Record<string, unknown>;
}

// biome-ignore lint/suspicious/noExplicitAny: definitions of any data shape live in one map
type AnyDefinition = SagaDefinition<any>;

export interface SagaRunnerOptions {
  db: Database;
  broker: moleculer.ServiceBroker;
  logger: Logger;
  /** How long a worker holds an instance between writes; past it the sweep may take over. */
  leaseMs?: number;
}

function describe(error: unknown): { message: string; type?: string; code?: number; data?: unknown } {
  const e = error as { message?: string; type?: string; code?: number; data?: unknown };
  return { message: String(e?.message ?? error), type: e?.type, code: e?.code, data: e?.data };
}

export class SagaRunner {
  readonly #db: Database;
  readonly #broker: moleculer.ServiceBroker;
  readonly #logger: Logger;
  readonly #leaseMs: number;
  readonly #definitions = new Map<string, AnyDefinition>();

  constructor(options: SagaRunnerOptions) {
    this.#db = options.db;
    this.#broker = options.broker;
    this.#logger = options.logger;
    this.#leaseMs = options.leaseMs ?? 30_000;
  }

  register(definition: AnyDefinition): void {
    this.#definitions.set(definition.kind, definition);
  }

  #io(meta: Record<string, unknown>): SagaIo {
    return { call: (action, params) => this.#broker.call(action, params, { meta: structuredClone(meta) }) };
  }

  /** Starts an instance and drives it until it completes, waits or is compensated. */
  async start<D>(
    definition: SagaDefinition<D>,
    data: D,
    meta: Record<string, unknown>,
    id: string = randomUUID(),
  ): Promise<SagaResult<D>> {
    if (!this.#definitions.has(definition.kind)) this.register(definition);
    const stored: Stored<D> = { data, meta };
    await this.#db.query(
      `INSERT INTO workflows.sagas (id, kind, status, step, state, locked_until)
       VALUES ($1, $2, 'running', 0, $3, now() + make_interval(secs => $4))`,
      [id, definition.kind, JSON.stringify(stored), this.#leaseMs / 1000],
    );
    return this.#drive(id, definition, stored, 'running', 0);
  }

  /** Continues a waiting instance with its next step (an approval arrived). No-op unless it waits for `what`. */
  async resume<D>(id: string, what: string, data: Partial<D> = {}): Promise<SagaResult<D> | null> {
    const claimed = await this.#claim(id, 'running', what, data);
    if (!claimed) return null;
    return this.#drive(id, claimed.definition, claimed.stored, 'running', claimed.step + 1);
  }

  /** Compensates a waiting instance (the approval was rejected, the order cancelled). */
  async abort<D>(id: string, what: string | null, reason: string): Promise<SagaResult<D> | null> {
    const claimed = await this.#claim(id, 'compensating', what, {}, { message: reason });
    if (!claimed) return null;
    return this.#drive(id, claimed.definition, claimed.stored, 'compensating', claimed.step, reason);
  }

  async #claim(
    id: string,
    to: 'running' | 'compensating',
    what: string | null,
    data: object,
    error?: object,
  ): Promise<{ definition: AnyDefinition; stored: Stored<unknown>; step: number } | null> {
    const { rows } = await this.#db.query(
      `UPDATE workflows.sagas
          SET status = $2, waiting_for = NULL, state = jsonb_set(state, '{data}', (state->'data') || $4::jsonb),
              error = coalesce($5::jsonb, error),
              locked_until = now() + make_interval(secs => $6), updated_at = now()
        WHERE id = $1 AND status = 'waiting' AND ($3::text IS NULL OR waiting_for = $3)
        RETURNING kind, step, state`,
      [id, to, what, JSON.stringify(data), error ? JSON.stringify(error) : null, this.#leaseMs / 1000],
    );
    const row = rows[0];
    if (!row) return null;
    const definition = this.#definitions.get(row.kind);
    if (!definition) throw new Error(`No saga definition ${row.kind}`);
    return { definition, stored: row.state, step: row.step };
  }

  /**
   * Takes over instances whose worker stopped writing (a crash): running ones resume at the step
   * that was under way, compensating ones go on undoing. Claims with SKIP LOCKED so parallel
   * sweeps split the work. Returns how many were taken over.
   */
  async sweep(limit = 50): Promise<number> {
    const { rows } = await this.#db.query(
      `UPDATE workflows.sagas s
          SET locked_until = now() + make_interval(secs => $2), attempts = attempts + 1, updated_at = now()
        WHERE s.id IN (SELECT id FROM workflows.sagas
                        WHERE status IN ('running', 'compensating') AND locked_until < now()
                        ORDER BY locked_until LIMIT $1 FOR UPDATE SKIP LOCKED)
        RETURNING id, kind, status, step, state, error`,
      [limit, this.#leaseMs / 1000],
    );
    for (const row of rows) {
      const definition = this.#definitions.get(row.kind);
      if (!definition) continue;
      try {
        await this.#drive(row.id, definition, row.state, row.status, row.step, row.error?.message);
      } catch (error) {
        this.#logger.warn(
          { err: error, sagaId: row.id, kind: row.kind },
          'saga taken over by the sweep failed',
        );
      }
    }
    return rows.length;
  }

  async get<D>(id: string): Promise<SagaResult<D> | null> {
    const { rows } = await this.#db.query(
      'SELECT status, state, waiting_for FROM workflows.sagas WHERE id = $1',
      [id],
    );
    const row = rows[0];
    return row ? { id, status: row.status, data: row.state.data, waitingFor: row.waiting_for ?? null } : null;
  }

  async #save(
    id: string,
    fields: {
      status: SagaStatus;
      step: number;
      data: unknown;
      meta: unknown;
      waitingFor?: string;
      error?: unknown;
    },
  ): Promise<void> {
    await this.#db.query(
      `UPDATE workflows.sagas
          SET status = $2, step = $3, state = $4, waiting_for = $5, error = coalesce($6::jsonb, error),
              locked_until = now() + make_interval(secs => $7), updated_at = now()
        WHERE id = $1`,
      [
        id,
        fields.status,
        fields.step,
        JSON.stringify({ data: fields.data, meta: fields.meta }),
        fields.waitingFor ?? null,
        fields.error === undefined ? null : JSON.stringify(describe(fields.error)),
        this.#leaseMs / 1000,
      ],
    );
  }

  async #drive<D>(
    id: string,
    definition: SagaDefinition<D>,
    stored: Stored<D>,
    status: 'running' | 'compensating',
    step: number,
    reason?: string,
  ): Promise<SagaResult<D>> {
    const io = this.#io(stored.meta);
    let data = stored.data;
    // Every caller of #drive has just written the row (start, claim, sweep): the lease is fresh.
    let leaseRenewedAt = Date.now();
    let failure: unknown;
    let undoFrom = step;
    let why = reason ?? 'compensated';
    if (status === 'running') {
      for (let index = step; index < definition.steps.length; index++) {
        const current = definition.steps[index]!;
        try {
          const outcome = await current.run(data, io);
          if (outcome?.data) data = { ...data, ...outcome.data };
          if (outcome?.wait) {
            await this.#save(id, {
              status: 'waiting',
              step: index,
              data,
              meta: stored.meta,
              waitingFor: outcome.wait,
            });
            return { id, status: 'waiting', data, waitingFor: outcome.wait };
          }
          const last = index === definition.steps.length - 1;
          const leaseHalfGone = Date.now() - leaseRenewedAt > this.#leaseMs / 2;
          if (last || outcome?.data || leaseHalfGone) {
            await this.#save(id, {
              status: last ? 'completed' : 'running',
              step: index + 1,
              data,
              meta: stored.meta,
            });
            leaseRenewedAt = Date.now();
          }
        } catch (error) {
          failure = error;
          undoFrom = index;
          why = describe(error).type
            ? `${describe(error).type}: ${describe(error).message}`
            : describe(error).message;
          await this.#save(id, { status: 'compensating', step: index, data, meta: stored.meta, error });
          break;
        }
      }
      if (failure === undefined) return { id, status: 'completed', data, waitingFor: null };
    }
    for (let index = undoFrom; index >= 0; index--) {
      const current = definition.steps[index]!;
      // Left as compensating with its lease: the sweep goes on undoing if this throws.
      await current.compensate?.(data, io, why);
      await this.#save(id, {
        status: index === 0 ? 'compensated' : 'compensating',
        step: index - 1,
        data,
        meta: stored.meta,
      });
    }
    return {
      id,
      status: 'compensated',
      data,
      waitingFor: null,
      ...(failure !== undefined ? { error: failure } : {}),
    };
  }
}
