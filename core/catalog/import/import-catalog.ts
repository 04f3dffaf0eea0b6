import type { Queryable } from '../../platform/database/database.ts';
import { type AttributeDefinition, listAttributes } from '../attributes.ts';
import { type Category, listCategories } from '../categories.ts';
import { normalizeHeader } from './import-columns.ts';

/**
 * What an import resolves names against, read once per import: brands, the category tree and the
 * attribute definitions (hundreds to a few thousand rows each). A brand or category deleted while
 * the import runs is caught by the database's foreign keys, product by product.
 */
export interface ImportCatalog {
  definitions: Map<string, AttributeDefinition>;
  resolveBrand(text: string): Resolved<string>;
  resolveCategory(text: string): Resolved<Category>;
  category(id: string): Category | undefined;
}

export type Resolved<T> = { ok: true; value: T } | { ok: false; code: string; message: string };

interface BrandRow {
  id: string;
  slug: string;
  name: string;
  name_zh: string | null;
}

const fold = (text: string) => normalizeHeader(text);

/** Category paths are written `紧固件/螺栓` or `Fasteners > Bolts` (slugs or names per level). */
const PATH_SEPARATOR = /\s*[/>＞／]\s*/;

export async function loadImportCatalog(db: Queryable): Promise<ImportCatalog> {
  const [definitions, categories, brands] = await Promise.all([
    listAttributes(db),
    listCategories(db),
    db.query<BrandRow>('SELECT id, slug, name, name_zh FROM catalog.brands'),
  ]);
  const brandBySlug = new Map(brands.rows.map((brand) => [brand.slug, brand.id]));
  const brandsByName = new Map<string, Set<string>>();
  for (const brand of brands.rows) {
    for (const name of [brand.name, brand.name_zh]) {
      if (!name) continue;
      const ids = brandsByName.get(fold(name)) ?? new Set<string>();
      ids.add(brand.id);
      brandsByName.set(fold(name), ids);
    }
  }
  const byId = new Map(categories.map((category) => [category.id, category]));
  const bySlug = new Map(categories.map((category) => [category.slug, category]));
  const children = new Map<string | null, Category[]>();
  for (const category of categories) {
    children.set(category.parentId, [...(children.get(category.parentId) ?? []), category]);
  }
  const named = (category: Category, text: string) =>
    category.slug === text || fold(category.nameZh) === fold(text) || fold(category.nameEn) === fold(text);

  // A file names the same few brands and categories on thousands of rows.
  const brandAnswers = new Map<string, Resolved<string>>();
  const categoryAnswers = new Map<string, Resolved<Category>>();
  const remembered =
    <T>(answers: Map<string, Resolved<T>>, resolve: (text: string) => Resolved<T>) =>
    (text: string): Resolved<T> => {
      let answer = answers.get(text);
      if (!answer) {
        answer = resolve(text);
        if (answers.size < 10_000) answers.set(text, answer);
      }
      return answer;
    };

  const catalog: ImportCatalog = {
    definitions: new Map(definitions.map((definition) => [definition.key, definition])),
    resolveBrand(text) {
      const id = brandBySlug.get(text);
      if (id) return { ok: true, value: id };
      const ids = [...(brandsByName.get(fold(text)) ?? [])];
      if (ids.length === 1) return { ok: true, value: ids[0]! };
      return ids.length > 1
        ? { ok: false, code: 'ambiguous-brand', message: 'names several brands: use the brand slug' }
        : { ok: false, code: 'unknown-brand', message: 'is not a brand (slug or name)' };
    },
    resolveCategory(text) {
      const levels = text.split(PATH_SEPARATOR).filter(Boolean);
      if (levels.length === 1) {
        const found = bySlug.get(levels[0]!);
        if (found) return { ok: true, value: found };
      }
      // Walk the tree level by level; a single level may sit anywhere in the tree.
      let candidates =
        levels.length === 1
          ? categories.filter((category) => named(category, levels[0]!))
          : (children.get(null) ?? []).filter((category) => named(category, levels[0]!));
      for (const level of levels.slice(1)) {
        candidates = candidates.flatMap((parent) =>
          (children.get(parent.id) ?? []).filter((category) => named(category, level)),
        );
      }
      if (candidates.length === 1) return { ok: true, value: candidates[0]! };
      return candidates.length > 1
        ? {
            ok: false,
            code: 'ambiguous-category',
            message: 'names several categories: write its path from the root, e.g. 紧固件/螺栓',
          }
        : { ok: false, code: 'unknown-category', message: 'is not a category (slug, name or path)' };
    },
    category: (id) => byId.get(id),
  };
  return {
    ...catalog,
    resolveBrand: remembered(brandAnswers, catalog.resolveBrand),
    resolveCategory: remembered(categoryAnswers, catalog.resolveCategory),
  };
}
