-- A counter every change of quantity rules or VAT rates bumps (in the changing transaction), so a
-- process that keeps them in memory knows, from one value read with the tiers, whether what it
-- keeps is still what the tables hold — whoever wrote them (actions, the demo seed, SQL by hand).
CREATE TABLE pricing.rules_version (
  singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  version   bigint  NOT NULL
);
INSERT INTO pricing.rules_version (singleton, version) VALUES (true, 1);

CREATE FUNCTION pricing.bump_rules_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE pricing.rules_version SET version = version + 1;
  RETURN NULL;
END $$;

CREATE TRIGGER quantity_rules_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON pricing.quantity_rules
  FOR EACH STATEMENT EXECUTE FUNCTION pricing.bump_rules_version();
CREATE TRIGGER vat_rates_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON pricing.vat_rates
  FOR EACH STATEMENT EXECUTE FUNCTION pricing.bump_rules_version();
