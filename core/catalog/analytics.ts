import type { Queryable } from '../platform/database/database.ts';

/**
 * Analytics hooks (append-only tables, for later reports): product views and search queries,
 * zero-result queries among them. Recording never fails the request that triggers it.
 */
export interface SearchQueryRecord {
  companyId: string | null;
  userId: string | null;
  query: string;
  resultCount: number;
}

/** Appends one search query (the search engine calls this after answering). Queries are cut at 500 characters. */
export async function recordSearchQuery(db: Queryable, record: SearchQueryRecord): Promise<void> {
  await db.query(
    `INSERT INTO catalog.search_queries (company_id, user_id, query, result_count) VALUES ($1, $2, $3, $4)`,
    [
      record.companyId,
      record.userId,
      record.query.slice(0, 500),
      Math.max(0, Math.trunc(record.resultCount)),
    ],
  );
}

/** Appends one product view. */
export async function recordProductView(
  db: Queryable,
  view: { productId: string; companyId: string | null; userId: string | null },
): Promise<void> {
  await db.query(`INSERT INTO catalog.product_views (product_id, company_id, user_id) VALUES ($1, $2, $3)`, [
    view.productId,
    view.companyId,
    view.userId,
  ]);
}

export interface SearchQueryRow extends SearchQueryRecord {
  id: string;
  searchedAt: string;
}

/** Recorded queries, newest first; `zeroResults` keeps only those that found nothing. */
export async function listSearchQueries(
  db: Queryable,
  filter: { zeroResults?: boolean; since?: string; beforeId?: string; limit: number },
): Promise<SearchQueryRow[]> {
  const { rows } = await db.query(
    `SELECT id::text, company_id, user_id, query, result_count, searched_at FROM catalog.search_queries
      WHERE ($1::boolean IS NOT TRUE OR result_count = 0)
        AND ($2::timestamptz IS NULL OR searched_at >= $2)
        AND ($3::bigint IS NULL OR id < $3)
      ORDER BY id DESC LIMIT $4`,
    [filter.zeroResults ?? null, filter.since ?? null, filter.beforeId ?? null, filter.limit],
  );
  return rows.map((row) => ({
    id: row.id,
    companyId: row.company_id,
    userId: row.user_id,
    query: row.query,
    resultCount: row.result_count,
    searchedAt: new Date(row.searched_at).toISOString(),
  }));
}

/** The most viewed products since a moment, with their view counts. */
export async function topViewedProducts(
  db: Queryable,
  filter: { since?: string; limit: number },
): Promise<Array<{ productId: string; views: number }>> {
  const { rows } = await db.query(
    `SELECT product_id, count(*)::int AS views FROM catalog.product_views
      WHERE $1::timestamptz IS NULL OR viewed_at >= $1
      GROUP BY product_id ORDER BY views DESC, product_id LIMIT $2`,
    [filter.since ?? null, filter.limit],
  );
  return rows.map((row) => ({ productId: row.product_id, views: row.views }));
}
