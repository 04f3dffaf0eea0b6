/**
 * How a mapping finds the id of the same thing on the other side. The sync engine backs it with
 * its links table `(connection, entity, external id) ↔ canonical id`; tests and the CLI use
 * {@link InMemoryLinkResolver}. `undefined` means "not linked", never an error: the mapping
 * decides what a missing link means (`link.missing`).
 */
export interface LinkResolver {
  toExternal(entity: string, canonicalId: string): Promise<string | undefined>;
  toCanonical(entity: string, externalId: string): Promise<string | undefined>;
}

/** Links as plain data: `{ "<entity>": { "<canonical id>": "<external id>" } }` (the links.json of golden cases). */
export type LinkTable = Record<string, Record<string, string>>;

export class InMemoryLinkResolver implements LinkResolver {
  readonly #toExternal = new Map<string, Map<string, string>>();
  readonly #toCanonical = new Map<string, Map<string, string>>();

  constructor(links: LinkTable = {}) {
    for (const [entity, pairs] of Object.entries(links)) {
      for (const [canonicalId, externalId] of Object.entries(pairs))
        this.link(entity, canonicalId, externalId);
    }
  }

  link(entity: string, canonicalId: string, externalId: string): this {
    const forward = this.#toExternal.get(entity) ?? new Map<string, string>();
    const backward = this.#toCanonical.get(entity) ?? new Map<string, string>();
    forward.set(canonicalId, externalId);
    backward.set(externalId, canonicalId);
    this.#toExternal.set(entity, forward);
    this.#toCanonical.set(entity, backward);
    return this;
  }

  async toExternal(entity: string, canonicalId: string): Promise<string | undefined> {
    return this.#toExternal.get(entity)?.get(canonicalId);
  }

  async toCanonical(entity: string, externalId: string): Promise<string | undefined> {
    return this.#toCanonical.get(entity)?.get(externalId);
  }
}
