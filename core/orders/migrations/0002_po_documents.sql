-- PO documents (the buyer's purchase order as a PDF or image): uploaded before checkout, attached
-- to the order that names it (one document, one order), bytes in the object store under file_key.
-- They replace the unused orders.po_document_key column of 0001.

ALTER TABLE orders.orders DROP COLUMN po_document_key;

CREATE TABLE orders.po_documents (
  id           uuid        PRIMARY KEY,
  company_id   uuid        NOT NULL,
  uploaded_by  uuid        NOT NULL,
  -- Set once, by the checkout that names the document; a document is never moved to another order.
  order_id     uuid        UNIQUE REFERENCES orders.orders (id) ON DELETE CASCADE,
  file_key     text        NOT NULL,
  file_name    text        NOT NULL CHECK (length(file_name) <= 255),
  content_type text        NOT NULL CHECK (content_type IN ('application/pdf', 'image/png', 'image/jpeg')),
  size_bytes   bigint      NOT NULL CHECK (size_bytes >= 1),
  sha256       text        NOT NULL,
  uploaded_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX po_documents_unattached_idx ON orders.po_documents (uploaded_at) WHERE order_id IS NULL;

-- Checkout may also require a PO document per company.
ALTER TABLE orders.company_settings ADD COLUMN po_document_required boolean NOT NULL DEFAULT false;
