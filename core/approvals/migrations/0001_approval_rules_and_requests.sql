-- Purchase approvals: the companies' rules, the requests made against them (one chain per
-- matching rule, steps in sequence), decisions, and approvers' delegations. Tenant columns on
-- every table: every query is scoped by company_id from the caller's auth context.
CREATE SCHEMA IF NOT EXISTS approvals;

CREATE TABLE approvals.rules (
  id         uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
  company_id uuid        NOT NULL,
  name       text        NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  priority   integer     NOT NULL DEFAULT 0,
  active     boolean     NOT NULL DEFAULT true,
  condition  jsonb       NOT NULL,
  steps      jsonb       NOT NULL,
  -- Bumped on every change: compiled conditions are cached per (id, version).
  version    integer     NOT NULL DEFAULT 1,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX rules_company_name_idx ON approvals.rules (company_id, lower(name));
CREATE INDEX rules_company_order_idx ON approvals.rules (company_id, priority DESC, id);

CREATE TABLE approvals.requests (
  id             uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
  company_id     uuid        NOT NULL,
  subject_type   text        NOT NULL,
  subject_id     text        NOT NULL,
  requester_id   uuid        NOT NULL,
  -- The requester's unit and roles when the request was made (what the rules saw).
  requester_unit_id   uuid,
  requester_unit_path uuid[] NOT NULL DEFAULT '{}',
  requester_roles     text[] NOT NULL DEFAULT '{}',
  status         text        NOT NULL
    CHECK (status IN ('pending', 'approved', 'rejected', 'not_required', 'superseded', 'cancelled')),
  snapshot       jsonb       NOT NULL,
  snapshot_hash  text        NOT NULL CHECK (snapshot_hash ~ '^[0-9a-f]{64}$'),
  superseded_by  uuid        REFERENCES approvals.requests (id) DEFERRABLE INITIALLY DEFERRED,
  cancelled_by   uuid,
  cancel_reason  text,
  created_at     timestamptz NOT NULL,
  completed_at   timestamptz
);
-- At most one current (neither superseded nor cancelled) request per subject.
CREATE UNIQUE INDEX requests_current_subject_idx ON approvals.requests (company_id, subject_type, subject_id)
  WHERE status NOT IN ('superseded', 'cancelled');
CREATE INDEX requests_subject_idx ON approvals.requests (company_id, subject_type, subject_id, created_at DESC);
CREATE INDEX requests_company_idx ON approvals.requests (company_id, id);
CREATE INDEX requests_requester_idx ON approvals.requests (company_id, requester_id);

CREATE TABLE approvals.chains (
  id           uuid    PRIMARY KEY DEFAULT gen_random_uuid(),
  request_id   uuid    NOT NULL REFERENCES approvals.requests (id),
  company_id   uuid    NOT NULL,
  position     integer NOT NULL,
  -- Copied from the rule: deleting or editing the rule later changes nothing here.
  rule_id      uuid    NOT NULL,
  rule_name    text    NOT NULL,
  rule_version integer NOT NULL,
  status       text    NOT NULL CHECK (status IN ('pending', 'approved', 'rejected', 'cancelled')),
  UNIQUE (request_id, position)
);

CREATE TABLE approvals.steps (
  id                     uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
  chain_id               uuid        NOT NULL REFERENCES approvals.chains (id),
  request_id             uuid        NOT NULL REFERENCES approvals.requests (id),
  company_id             uuid        NOT NULL,
  position               integer     NOT NULL,
  name                   text        NOT NULL,
  -- The step as the rule defined it when the request was made (approvers, required, escalation).
  definition             jsonb       NOT NULL,
  status                 text        NOT NULL
    CHECK (status IN ('waiting', 'active', 'approved', 'rejected', 'cancelled')),
  required_count         integer     CHECK (required_count >= 1),
  approvals_count        integer     NOT NULL DEFAULT 0,
  -- Resolved when the step activates and frozen; escalation appends to it.
  approver_ids           uuid[]      NOT NULL DEFAULT '{}',
  escalated_approver_ids uuid[]      NOT NULL DEFAULT '{}',
  activated_at           timestamptz,
  escalate_at            timestamptz,
  escalated_at           timestamptz,
  -- Lease of the sweep that is escalating this step, so several processes never do it twice.
  escalation_claimed_until timestamptz,
  completed_at           timestamptz,
  UNIQUE (chain_id, position)
);
CREATE INDEX steps_request_idx ON approvals.steps (request_id);
CREATE INDEX steps_active_approvers_idx ON approvals.steps USING gin (approver_ids) WHERE status = 'active';
CREATE INDEX steps_escalation_due_idx ON approvals.steps (escalate_at)
  WHERE status = 'active' AND escalated_at IS NULL AND escalate_at IS NOT NULL;

CREATE TABLE approvals.decisions (
  id         uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
  step_id    uuid        NOT NULL REFERENCES approvals.steps (id),
  request_id uuid        NOT NULL REFERENCES approvals.requests (id),
  company_id uuid        NOT NULL,
  -- Who decided, and whose approver slot the decision fills (themself, or their delegator).
  decided_by uuid        NOT NULL,
  acting_for uuid        NOT NULL,
  decision   text        NOT NULL CHECK (decision IN ('approve', 'reject')),
  comment    text,
  decided_at timestamptz NOT NULL,
  CONSTRAINT reject_has_comment CHECK (decision = 'approve' OR comment IS NOT NULL),
  -- A user decides once per step, and an approver's slot is filled once.
  UNIQUE (step_id, decided_by),
  UNIQUE (step_id, acting_for)
);
CREATE INDEX decisions_request_idx ON approvals.decisions (request_id);

CREATE TABLE approvals.delegations (
  company_id   uuid        NOT NULL,
  delegator_id uuid        NOT NULL,
  delegate_id  uuid        NOT NULL,
  valid_from   timestamptz NOT NULL,
  valid_until  timestamptz NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (company_id, delegator_id),
  CHECK (delegate_id <> delegator_id),
  CHECK (valid_until > valid_from)
);
CREATE INDEX delegations_delegate_idx ON approvals.delegations (company_id, delegate_id);
