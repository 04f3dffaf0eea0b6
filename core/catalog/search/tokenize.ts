/**
 * The search tokenizer: mixed Chinese / English product text → index terms, and a query → the
 * terms it requires. Pure and deterministic, so the index and the query always agree, and the
 * same terms reach PostgreSQL and PGlite (the database never parses text itself: the locale-
 * dependent default parser would drop or split CJK differently per server).
 *
 * Term forms (a term is upper-case exactly when it contains a digit):
 * - Latin words: lower-cased, split on punctuation (`Hex-Head` → `hex`, `head`).
 * - Codes (model numbers, SKU codes; any token with a digit): upper-case with separators
 *   `- _ / .` removed (`DIN933-M8x30-A2` → `DIN933M8X30A2`), plus each part between separators
 *   (`DIN933`, `M8X30`, `A2`), each part split where a digit is followed by a letter (`M8`,
 *   `X30`), and the letter runs (as words: `din`) and digit runs (`933`, `30`) of two or more.
 * - CJK runs (Han, kana, Hangul): every overlapping bigram plus every single character
 *   (`六角螺栓` → `六角`, `角螺`, `螺栓`, `六`, `角`, `螺`, `栓`), so text without spaces still
 *   matches: the query `不锈钢 M8 螺栓` requires `不锈`, `锈钢`, `M8`, `螺栓`.
 * Full-width forms become half-width (NFKC: `ＭＳ８` → `MS8`), control characters are blanks.
 */

/** A query is cut to this many characters (the API refuses longer ones; this is the backstop). */
export const MAX_QUERY_LENGTH = 200;
/** Index text per field is cut to this many characters. */
export const MAX_FIELD_LENGTH = 10_000;
/** A single term longer than this is cut (tsvector lexemes must stay small). */
export const MAX_TERM_LENGTH = 64;

const CJK = '\\p{Script=Han}\\p{Script=Hiragana}\\p{Script=Katakana}\\p{Script=Hangul}';
const WORD_CHAR = `(?:(?![${CJK}])[\\p{L}\\p{N}\\p{M}])`;
const SEPARATOR = '[-_/.]';
/** A CJK run, or a word/code: alphanumeric runs joined by single separators. */
const TOKEN = new RegExp(`([${CJK}]+)|(${WORD_CHAR}+(?:${SEPARATOR}${WORD_CHAR}+)*)`, 'gu');
const PART_SPLIT = new RegExp(SEPARATOR, 'u');
const HAS_DIGIT = /\p{N}/u;
const DIGIT_THEN_LETTER = /(?<=\p{N})(?=\p{L})/u;
const LETTER_OR_DIGIT_RUNS = /\p{L}[\p{L}\p{M}]*|\p{N}+/gu;
const NOT_ALNUM = /[^\p{L}\p{N}]/gu;
// Control, format and unpaired surrogate code points: blanks, never part of a term.
const UNSAFE = /[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}]/gu;

/**
 * NFKC (full-width → half-width, compatibility forms such as `①` → `1`), `×` → `x` (as in
 * `M8×30`), control characters blanked, cut to `maxLength` characters (never inside a
 * surrogate pair).
 */
export function normalizeText(text: string, maxLength = MAX_FIELD_LENGTH): string {
  let cut = text.length > maxLength * 2 ? text.slice(0, maxLength * 2) : text;
  cut = cut.normalize('NFKC').replace(UNSAFE, ' ').replace(/×/g, 'x');
  if (cut.length > maxLength) cut = cut.slice(0, maxLength).replace(/[\uD800-\uDBFF]$/, '');
  return cut;
}

/** A model number or SKU code as stored and compared: upper-case letters and digits only. */
export function normalizeModel(code: string): string {
  return normalizeText(code, MAX_TERM_LENGTH * 4)
    .toUpperCase()
    .replace(NOT_ALNUM, '')
    .slice(0, MAX_TERM_LENGTH);
}

function clip(term: string): string {
  return term.length > MAX_TERM_LENGTH ? term.slice(0, MAX_TERM_LENGTH) : term;
}

/** Letter-only terms are words (lower case); anything with a digit is a code (upper case). */
function termOf(piece: string): string {
  return clip(HAS_DIGIT.test(piece) ? piece.toUpperCase() : piece.toLowerCase());
}

/** One token of text, classified. */
export type Token =
  | { kind: 'cjk'; text: string }
  | { kind: 'word'; text: string }
  | { kind: 'code'; text: string; parts: string[] };

/** The tokens of already normalised text, in order. */
export function scan(normalized: string): Token[] {
  const tokens: Token[] = [];
  for (const match of normalized.matchAll(TOKEN)) {
    if (match[1]) {
      tokens.push({ kind: 'cjk', text: match[1] });
      continue;
    }
    const raw = match[2]!;
    const parts = raw.split(PART_SPLIT).filter(Boolean);
    if (HAS_DIGIT.test(raw)) {
      tokens.push({ kind: 'code', text: termOf(parts.join('')), parts: parts.map(termOf) });
    } else {
      for (const part of parts) tokens.push({ kind: 'word', text: termOf(part) });
    }
  }
  return tokens;
}

/** Every index term of a code: the whole, its parts, digit→letter splits and letter/digit runs. */
export function codeTerms(token: { text: string; parts: string[] }): string[] {
  const terms = [token.text];
  for (const part of token.parts) {
    terms.push(part);
    for (const piece of part.split(DIGIT_THEN_LETTER)) terms.push(termOf(piece));
    for (const run of part.match(LETTER_OR_DIGIT_RUNS) ?? []) {
      if (run.length >= 2) terms.push(termOf(run));
    }
  }
  return terms;
}

/** Overlapping bigrams of a CJK run (the run itself when it is one character). */
export function bigrams(run: string): string[] {
  const chars = Array.from(run);
  if (chars.length < 2) return chars;
  const out: string[] = [];
  for (let i = 0; i + 1 < chars.length; i++) out.push(chars[i]! + chars[i + 1]!);
  return out;
}

/**
 * The singular of a plural-looking English word (`bolts` → `bolt`, `assemblies` → `assembly`),
 * else the word. Applied alike to the index and to queries, so a wrong guess costs nothing.
 */
export function singular(word: string): string {
  if (word.length < 4 || !/^[a-z]+s$/.test(word) || word.endsWith('ss')) return word;
  if (word.endsWith('ies') && word.length >= 5) return `${word.slice(0, -3)}y`;
  return word.slice(0, -1);
}

function tokenTerms(token: Token): string[] {
  switch (token.kind) {
    case 'word':
      return [token.text, singular(token.text)];
    case 'code':
      return codeTerms(token);
    case 'cjk': {
      const chars = Array.from(token.text);
      return chars.length < 2 ? chars : [...bigrams(token.text), ...chars];
    }
  }
}

/** The distinct index terms of `text`, in order of first occurrence. */
export function tokenize(text: string, maxLength = MAX_FIELD_LENGTH): string[] {
  const terms = new Set<string>();
  for (const token of scan(normalizeText(text, maxLength))) {
    for (const term of tokenTerms(token)) if (term) terms.add(term);
  }
  return [...terms];
}

/**
 * What one query token requires of a document: any one of `anyOf` alternatives, each a set of
 * terms that must all be present (`prefix`: the term may be the start of a longer one).
 */
export interface QueryClause {
  token: string;
  kind: Token['kind'];
  anyOf: Array<Array<{ term: string; prefix: boolean }>>;
}

export interface ParsedQuery {
  /** The normalised query text (what is recorded and echoed). */
  text: string;
  /** Every clause must match (AND). */
  clauses: QueryClause[];
  /** The whole query as a code when it is one (`din933-m8x30-a2` → `DIN933M8X30A2`): exact model / SKU boost. */
  exactCode: string | null;
  /** The query's codes run together (`DN933 M8x30` → `DN933M8X30`) for typo-tolerant model matching; null when shorter than 4. */
  fuzzyCode: string | null;
  /** The clauses that are not codes: what a typo-tolerant model match must still satisfy. */
  otherClauses: QueryClause[];
}

const PREFIX_MIN_WORD = 3;
const PREFIX_MIN_CODE = 4;
const FUZZY_MIN = 4;
const ONLY_CODE_CHARS = new RegExp(`^(?:${WORD_CHAR}|${SEPARATOR}|\\s)+$`, 'u');

/**
 * Words match whole (in their singular), except the last word of the query, which may be the
 * start of a longer one (typing ahead: `bear` finds `bearing`). Prefixes of frequent words are
 * expensive in the GIN index, hence only the last. Codes of four characters or more always
 * match as prefixes (`din933m8` finds `DIN933M8X30A2`); codes are rare terms, so that is cheap.
 */
function clauseOf(token: Token, last: boolean): QueryClause {
  switch (token.kind) {
    case 'word': {
      const term = singular(token.text);
      return {
        token: token.text,
        kind: 'word',
        anyOf: [[{ term, prefix: last && term.length >= PREFIX_MIN_WORD }]],
      };
    }
    case 'code': {
      const whole = [{ term: token.text, prefix: token.text.length >= PREFIX_MIN_CODE }];
      if (token.parts.length < 2) return { token: token.text, kind: 'code', anyOf: [whole] };
      const parts = token.parts.map((part) => ({ term: part, prefix: false }));
      return { token: token.text, kind: 'code', anyOf: [whole, parts] };
    }
    case 'cjk':
      return {
        token: token.text,
        kind: 'cjk',
        anyOf: [bigrams(token.text).map((term) => ({ term, prefix: false }))],
      };
  }
}

/** Parses a search query with the index's own tokenizer (cut to 200 characters). */
export function parseQuery(query: string): ParsedQuery {
  const text = normalizeText(query, MAX_QUERY_LENGTH).replace(/\s+/g, ' ').trim();
  const seen = new Set<string>();
  const clauses: QueryClause[] = [];
  const tokens = scan(text);
  tokens.forEach((token, index) => {
    const key = `${token.kind}:${token.text}`;
    if (seen.has(key)) return;
    seen.add(key);
    clauses.push(clauseOf(token, index === tokens.length - 1));
  });
  const codes = clauses.filter((clause) => clause.kind === 'code');
  const exact = ONLY_CODE_CHARS.test(text) && HAS_DIGIT.test(text) ? normalizeModel(text) : '';
  const fuzzy = codes
    .map((clause) => clause.token)
    .join('')
    .slice(0, MAX_TERM_LENGTH);
  return {
    text,
    clauses,
    exactCode: exact || null,
    fuzzyCode: fuzzy.length >= FUZZY_MIN ? fuzzy : null,
    otherClauses: clauses.filter((clause) => clause.kind !== 'code'),
  };
}

/** A lexeme quoted for tsvector / tsquery input. */
export function quoteLexeme(term: string): string {
  return `'${term.replace(/\\/g, '\\\\').replace(/'/g, "''")}'`;
}

/**
 * The clauses as tsquery input (`'不锈' & '锈钢' & ( 'DIN933M8X30':* | 'DIN933' & 'M8X30' )`),
 * or null when there are none. Passed as a bind parameter and cast, never spliced into SQL.
 */
export function toTsQuery(clauses: QueryClause[]): string | null {
  const parts = clauses.map((clause) => {
    const alternatives = clause.anyOf.map((all) =>
      all.map(({ term, prefix }) => `${quoteLexeme(term)}${prefix ? ':*' : ''}`).join(' & '),
    );
    return alternatives.length === 1 ? `( ${alternatives[0]} )` : `( ${alternatives.join(' | ')} )`;
  });
  return parts.length ? parts.join(' & ') : null;
}

/** Index weights: A name, B model / SKU codes / brand, C attributes / category, D description. */
export type Weight = 'A' | 'B' | 'C' | 'D';

/** tsvector positions stop here (PostgreSQL's limit is 16383). */
const MAX_POSITION = 16_383;
/** Distinct lexemes per document at most. */
export const MAX_TERMS = 4_096;

/**
 * A tsvector literal from weighted fields: every distinct term once per field, positions in
 * order, the same term in several fields carrying each field's weight. Built here rather than by
 * `to_tsvector` so both servers index exactly these lexemes.
 */
export function buildTsVector(fields: Array<{ weight: Weight; text: string }>): string {
  const positions = new Map<string, string[]>();
  let position = 0;
  for (const field of fields) {
    for (const term of tokenize(field.text)) {
      let list = positions.get(term);
      if (!list) {
        if (positions.size >= MAX_TERMS) continue;
        list = [];
        positions.set(term, list);
      }
      position = Math.min(position + 1, MAX_POSITION);
      if (list.length < 32) list.push(`${position}${field.weight}`);
    }
  }
  return [...positions].map(([term, list]) => `${quoteLexeme(term)}:${list.join(',')}`).join(' ');
}
