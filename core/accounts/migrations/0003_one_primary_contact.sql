-- At most one primary contact per company, guaranteed by the database (the service also locks the
-- company row while it switches the primary contact).
CREATE UNIQUE INDEX company_contacts_primary_idx ON accounts.company_contacts (company_id) WHERE is_primary;
