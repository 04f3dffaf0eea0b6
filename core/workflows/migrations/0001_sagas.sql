-- Saga instances: one row per run of a workflow (placing an order, ...), its state after each step,
-- so a process that dies mid-saga leaves enough for the sweep to resume or compensate it.

CREATE SCHEMA IF NOT EXISTS workflows;

CREATE TABLE workflows.sagas (
  id           uuid        PRIMARY KEY,
  kind         text        NOT NULL CHECK (length(kind) <= 100),
  -- running: a step is under way; waiting: paused until an outside event (an approval);
  -- compensating: undoing; completed / compensated: final.
  status       text        NOT NULL CHECK (status IN ('running', 'waiting', 'compensating', 'completed', 'compensated')),
  -- Index of the step under way (running/waiting) or the next one to undo (compensating).
  step         integer     NOT NULL DEFAULT 0,
  state        jsonb       NOT NULL,
  waiting_for  text,
  error        jsonb,
  -- Whoever works on the instance holds it until then; the sweep takes over instances past it.
  locked_until timestamptz NOT NULL,
  attempts     integer     NOT NULL DEFAULT 0,
  created_at   timestamptz NOT NULL DEFAULT now(),
  updated_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX sagas_sweep_idx ON workflows.sagas (locked_until) WHERE status IN ('running', 'compensating');
CREATE INDEX sagas_waiting_idx ON workflows.sagas (kind, waiting_for) WHERE status = 'waiting';
