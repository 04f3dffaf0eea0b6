-- Staff-side requests: a hub decision about a company's subject (a quote below the margin floor)
-- decided by staff members holding a permission, not by the company's own users and rules.
-- The company column stays the subject's company (tenant scoping of every buyer-side read
-- additionally excludes staff requests, see visibility.ts).
ALTER TABLE approvals.requests
  ADD COLUMN audience text NOT NULL DEFAULT 'buyer' CHECK (audience IN ('buyer', 'staff'));
-- A staff step's approvers are every staff member holding this permission when they decide
-- (never the requester); buyer steps keep their frozen approver_ids and leave it null.
ALTER TABLE approvals.steps
  ADD COLUMN approver_permission text CHECK (length(approver_permission) BETWEEN 1 AND 100);
CREATE INDEX requests_staff_pending_idx ON approvals.requests (id)
  WHERE audience = 'staff' AND status = 'pending';
