-- The pricing hot path asks for the tiers of up to 500 SKUs across a buyer's few candidate lists
-- in one simple query. Led by the list, the primary key makes the planner expect most of the table
-- (a buyer's lists are often all the lists there are) and scan it; led by the SKU, each SKU is one
-- short index range.
CREATE INDEX prices_sku_idx ON pricing.prices (sku_id, price_list_id);

-- The lists a list's percentage tiers take their base prices from, kept by every price upsert in
-- its transaction, so a buyer's candidate lists (cached) already name every list whose tiers the
-- hot path needs, and the tier query never has to find them first.
ALTER TABLE pricing.price_lists ADD COLUMN base_list_ids uuid[] NOT NULL DEFAULT '{}';
CREATE INDEX prices_list_base_idx ON pricing.prices (price_list_id, base_list_id) WHERE base_list_id IS NOT NULL;
