import type { ApprovalStep } from '../../schemas/generated/types.ts';
import type { Queryable } from '../platform/database/database.ts';
import { type CompiledRule, compileCondition } from './condition.ts';
import { activeRuleVersions, rulesByIds } from './rules.ts';

/** What a request copies from a matching rule into its chain. */
export interface RuleChainSource {
  name: string;
  version: number;
  steps: ApprovalStep[];
}

/**
 * Compiled conditions of active rules, per rule id and version. Each evaluation reads only the
 * (id, version, priority) of the company's active rules, so a change made by any process is seen
 * at once, and fetches and compiles only rules it has not compiled at that version.
 */
export class CompiledRuleCache {
  readonly #entries = new Map<string, CompiledRule<RuleChainSource>>();
  readonly #maxEntries: number;

  constructor(maxEntries = 20_000) {
    this.#maxEntries = maxEntries;
  }

  async activeRules(db: Queryable, companyId: string): Promise<CompiledRule<RuleChainSource>[]> {
    const current = await activeRuleVersions(db, companyId);
    const stale = current.filter((rule) => this.#entries.get(rule.id)?.extra.version !== rule.version);
    for (const rule of await rulesByIds(
      db,
      companyId,
      stale.map((s) => s.id),
    )) {
      this.#remember({
        id: rule.id,
        priority: rule.priority,
        matches: compileCondition(rule.condition),
        extra: { name: rule.name, version: rule.version, steps: rule.steps },
      });
    }
    const rules: CompiledRule<RuleChainSource>[] = [];
    for (const { id } of current) {
      const compiled = this.#entries.get(id);
      // Deleted between the two reads: gone for this evaluation too.
      if (compiled) rules.push(compiled);
    }
    return rules;
  }

  #remember(rule: CompiledRule<RuleChainSource>): void {
    this.#entries.delete(rule.id);
    this.#entries.set(rule.id, rule);
    if (this.#entries.size > this.#maxEntries) {
      this.#entries.delete(this.#entries.keys().next().value!);
    }
  }
}
