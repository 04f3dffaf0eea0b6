import { describe, expect, it } from '@jest/globals';
import {
  bigrams,
  buildTsVector,
  MAX_QUERY_LENGTH,
  MAX_TERM_LENGTH,
  normalizeModel,
  normalizeText,
  parseQuery,
  quoteLexeme,
  tokenize,
  toTsQuery,
} from './tokenize.ts';

/** Whether a document's terms satisfy a parsed query, as the tsquery does. */
function matches(documentText: string, query: string): boolean {
  const terms = tokenize(documentText);
  const has = ({ term, prefix }: { term: string; prefix: boolean }) =>
    prefix ? terms.some((candidate) => candidate.startsWith(term)) : terms.includes(term);
  const { clauses } = parseQuery(query);
  return clauses.length > 0 && clauses.every((clause) => clause.anyOf.some((all) => all.every(has)));
}

describe('tokenize', () => {
  it('lower-cases Latin words and splits them on punctuation', () => {
    expect(tokenize('Hex-Head Bolt, zinc.plated (DIN)')).toEqual([
      'hex',
      'head',
      'bolt',
      'zinc',
      'plated',
      'din',
    ]);
  });

  it('normalises model numbers and adds their parts, digit→letter splits and runs', () => {
    const terms = tokenize('DIN933-M8x30-A2');
    expect(terms[0]).toBe('DIN933M8X30A2');
    expect(terms).toEqual(expect.arrayContaining(['DIN933', 'M8X30', 'A2', 'M8', 'X30', 'din', '933', '30']));
    expect(terms).not.toContain('din933-m8x30-a2');
    expect(tokenize('din933_m8x30/a2')[0]).toBe('DIN933M8X30A2');
    expect(tokenize('6204-2RS')).toEqual(expect.arrayContaining(['62042RS', '6204', '2RS', 'rs']));
  });

  it('normalises model numbers for the model column: upper case, separators and spaces removed', () => {
    expect(normalizeModel('DIN933-M8x30-A2')).toBe('DIN933M8X30A2');
    expect(normalizeModel(' din 933 / m8.x30_a2 ')).toBe('DIN933M8X30A2');
    expect(normalizeModel('ＤＩＮ９３３－Ｍ８×３０')).toBe('DIN933M8X30');
    expect(normalizeModel('x'.repeat(500))).toHaveLength(MAX_TERM_LENGTH);
  });

  it('turns CJK runs into overlapping bigrams plus single characters', () => {
    expect(tokenize('六角螺栓')).toEqual(['六角', '角螺', '螺栓', '六', '角', '螺', '栓']);
    expect(tokenize('钢')).toEqual(['钢']);
    expect(bigrams('不锈钢')).toEqual(['不锈', '锈钢']);
  });

  it('splits mixed scripts at the script boundary', () => {
    const terms = tokenize('M8不锈钢六角螺栓 stainless');
    expect(terms).toEqual(expect.arrayContaining(['M8', '不锈', '锈钢', '钢六', '螺栓', 'stainless']));
    expect(terms.some((term) => /M8不/.test(term))).toBe(false);
  });

  it('maps full-width characters to half-width (NFKC)', () => {
    expect(tokenize('ＭＳ８')).toEqual(['MS8', 'ms']);
    expect(normalizeText('Ｍ８　螺栓，ＡＢＣ')).toBe('M8 螺栓,ABC');
    expect(tokenize('①号')).toEqual(expect.arrayContaining(['1']));
    expect(tokenize('M8×30')).toContain('M8X30');
  });

  it('blanks control and format characters instead of gluing terms together', () => {
    expect(tokenize('bolt\u0000nut\u200bwasher\u0007')).toEqual(['bolt', 'nut', 'washer']);
    expect(tokenize('\ud800broken')).toEqual(['broken']);
  });

  it('cuts hostile input: 10k-character strings and single giant terms', () => {
    const long = 'a'.repeat(10_000);
    expect(tokenize(long)).toEqual(['a'.repeat(MAX_TERM_LENGTH)]);
    const many = 'bolt '.repeat(50_000);
    expect(normalizeText(many).length).toBeLessThanOrEqual(10_000);
    expect(parseQuery('螺'.repeat(10_000)).text).toHaveLength(MAX_QUERY_LENGTH);
    expect(normalizeText('😀'.repeat(150), 201)).toHaveLength(200);
  });

  it('ignores pure punctuation and empty input', () => {
    expect(tokenize('')).toEqual([]);
    expect(tokenize(' ,.;!? —— 。、 ')).toEqual([]);
    expect(parseQuery('  ').clauses).toEqual([]);
    expect(toTsQuery(parseQuery('*&|!').clauses)).toBeNull();
  });
});

describe('parseQuery', () => {
  it('finds 不锈钢 M8 螺栓 in M8不锈钢六角螺栓 without spaces', () => {
    const query = parseQuery('不锈钢 M8 螺栓');
    expect(query.clauses.map((clause) => clause.token)).toEqual(['不锈钢', 'M8', '螺栓']);
    expect(matches('M8不锈钢六角螺栓', '不锈钢 M8 螺栓')).toBe(true);
    expect(matches('M10不锈钢六角螺栓', '不锈钢 M8 螺栓')).toBe(false);
    expect(matches('M8碳钢六角螺栓', '不锈钢 M8 螺栓')).toBe(false);
  });

  it('matches English and Chinese, full-width and half-width alike', () => {
    expect(matches('Stainless steel hex bolts', 'stainless BOLT')).toBe(true);
    expect(matches('M8不锈钢六角螺栓', 'Ｍ８　不锈钢')).toBe(true);
    expect(matches('Hex bolt', 'nut')).toBe(false);
  });

  it('matches model numbers typed with other separators, partially or run together', () => {
    const model = 'DIN933-M8x30-A2';
    for (const query of [
      'din933 m8x30',
      'DIN933M8X30A2',
      'DIN933/M8X30',
      'm8x30',
      'M8',
      'DIN 933',
      'din933m8',
    ]) {
      expect([query, matches(model, query)]).toEqual([query, true]);
    }
    expect(matches(model, 'M10')).toBe(false);
  });

  it('names the exact code for the boost and the code run for typo tolerance', () => {
    expect(parseQuery('din933-m8x30-a2')).toMatchObject({
      exactCode: 'DIN933M8X30A2',
      fuzzyCode: 'DIN933M8X30A2',
    });
    expect(parseQuery('DN933 M8x30')).toMatchObject({ exactCode: 'DN933M8X30', fuzzyCode: 'DN933M8X30' });
    const mixed = parseQuery('不锈钢 DN933');
    expect(mixed).toMatchObject({ exactCode: null, fuzzyCode: 'DN933' });
    expect(parseQuery('螺栓 DIN933-M8').fuzzyCode).toBe('DIN933M8');
    expect(parseQuery('螺栓 DIN933-M8').otherClauses.map((clause) => clause.token)).toEqual(['螺栓']);
    expect(parseQuery('bolt').exactCode).toBeNull();
  });

  it('builds tsquery input with prefixes for longer words and codes, alternatives for compound codes', () => {
    expect(toTsQuery(parseQuery('不锈钢 M8 bolt').clauses)).toBe(
      "( '不锈' & '锈钢' ) & ( 'M8' ) & ( 'bolt':* )",
    );
    expect(toTsQuery(parseQuery('DIN933-M8x30').clauses)).toBe("( 'DIN933M8X30':* | 'DIN933' & 'M8X30' )");
  });

  it('drops repeated tokens', () => {
    expect(parseQuery('bolt bolt BOLT').clauses).toHaveLength(1);
  });
});

describe('buildTsVector', () => {
  it('weights each field and quotes lexemes', () => {
    const vector = buildTsVector([
      { weight: 'A', text: '六角螺栓' },
      { weight: 'B', text: 'M8' },
      { weight: 'D', text: "it's 螺栓" },
    ]);
    expect(vector).toContain("'螺栓':3A,11D");
    expect(vector).toContain("'M8':8B");
    expect(vector).toContain("'it':9D");
    expect(quoteLexeme("o'k\\")).toBe("'o''k\\\\'");
  });
});
