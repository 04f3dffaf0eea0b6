-- Flows waiting for an approval (the hub-approval Node-RED node): the waiting state lives here,
-- not in Node-RED's memory, so a flow resumes after a restart of Node-RED or of the hub.
CREATE SCHEMA IF NOT EXISTS flows;

CREATE TABLE flows.approval_waits (
  approval_id  uuid        PRIMARY KEY,
  -- The Node-RED node that waits (its id in the deployed flow) and resumes the flow.
  node_id      text        NOT NULL CHECK (length(node_id) BETWEEN 1 AND 100),
  company_id   uuid        NOT NULL,
  requester_id uuid        NOT NULL,
  subject      jsonb       NOT NULL,
  -- The message the flow continues with (bounded by the action's schema and a size check).
  message      jsonb       NOT NULL,
  state        text        NOT NULL DEFAULT 'waiting'
                           CHECK (state IN ('waiting', 'approved', 'rejected', 'withdrawn')),
  comment      text,
  decided_by   uuid,
  created_at   timestamptz NOT NULL DEFAULT now(),
  decided_at   timestamptz
);
CREATE INDEX approval_waits_node_idx ON flows.approval_waits (node_id, state, created_at);
