import { audiencesOf, type Viewer } from '../visibility.ts';

/**
 * Who may get an asset. Its access rule names audiences in the vocabulary of product visibility
 * (`public`, `company:<uuid>`, `tier:<tier>`, `tag:<tag>`) plus `buyers` (any buyer of an active
 * company), materialised in `catalog.media_audiences`:
 *
 * - `public` → `public`; `buyers` → `buyers`; `restricted` → the named audiences (none = staff only).
 *
 * On top of its own rule, an asset attached to products is available only through a product the
 * viewer may see: a datasheet marked public but attached only to a gold-tier product is not shown to
 * others (its title would reveal the product). An asset attached to nothing (a company white paper)
 * stands on its rule alone. Staff get everything.
 */
export const ACCESS_LEVELS = ['public', 'buyers', 'restricted'] as const;
export type AccessLevel = (typeof ACCESS_LEVELS)[number];

/** The audiences a viewer belongs to for media; null for staff (no filter). */
export function mediaAudiencesOf(viewer: Viewer): string[] | null {
  const audiences = audiencesOf(viewer);
  if (audiences === null) return null;
  return viewer.kind === 'buyer' ? [...audiences, 'buyers'] : audiences;
}

/** The rows of `catalog.media_audiences` an access rule stands for. */
export function audienceRows(access: AccessLevel, named: readonly string[]): string[] {
  return access === 'restricted' ? [...new Set(named)] : [access];
}

/**
 * A SQL predicate true for the assets (`catalog.media_assets` aliased `alias`) the viewer may get:
 * its rule admits them, and it is attached to no product or to one they may see. Its one parameter
 * is appended to `values`; staff get `TRUE`.
 */
export function mediaAccessSql(alias: string, viewer: Viewer, values: unknown[]): string {
  if (!/^[a-z_][a-z0-9_]*$/i.test(alias)) throw new Error(`"${alias}" is not a SQL alias`);
  const audiences = mediaAudiencesOf(viewer);
  if (audiences === null) return 'TRUE';
  values.push(audiences);
  const n = `$${values.length}::text[]`;
  return `(EXISTS (SELECT 1 FROM catalog.media_audiences ma
                    WHERE ma.asset_id = ${alias}.id AND ma.audience = ANY(${n}))
           AND (NOT EXISTS (SELECT 1 FROM catalog.product_media pm WHERE pm.asset_id = ${alias}.id)
                OR EXISTS (SELECT 1 FROM catalog.product_media pm
                             JOIN catalog.product_visibility v ON v.product_id = pm.product_id
                            WHERE pm.asset_id = ${alias}.id AND v.audience = ANY(${n}))))`;
}
