import type { JobRequest } from '../jobs/job-queue.ts';

/** A domain event to publish on the Moleculer bus after commit, e.g. `company.created`. */
export interface OutboxEvent {
  kind: 'event';
  /** Past tense, `<entity>.<verb-ed>`. */
  name: string;
  payload: Record<string, unknown>;
  /** Tenant the event belongs to, if any. */
  companyId?: string | null;
}

/** Durable work to enqueue after commit (push an order to the ERP, ...). */
export interface OutboxJob {
  kind: 'job';
  job: JobRequest;
}

export type OutboxMessage = OutboxEvent | OutboxJob;
