-- A staff version below the margin floor now moves the quote to pending_approval while the
-- approvals engine decides (approved → quoted, rejected → in_review).
ALTER TABLE quotes.quotes DROP CONSTRAINT quotes_state_check;
ALTER TABLE quotes.quotes ADD CONSTRAINT quotes_state_check CHECK (state IN ('requested', 'in_review',
  'pending_approval', 'quoted', 'countered', 'accepted', 'rejected', 'expired', 'cancelled'));
