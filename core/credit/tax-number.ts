/**
 * Chinese taxpayer identification numbers as they appear on invoices (纳税人识别号 / 税号):
 * the 18-character unified social credit code (统一社会信用代码, GB 32100-2015) that every
 * registered entity has had since 2015, or the older 15- and 20-character tax registration numbers
 * some taxpayers still use. Only the 18-character code carries a check character, so only it is
 * verified beyond its shape.
 */

/** The code's alphabet: digits and upper-case letters without I, O, S, V, Z. */
const USCC_CHARS = '0123456789ABCDEFGHJKLMNPQRTUWXY';
const USCC_WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];
const USCC = /^[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}$/;
const LEGACY = /^(?:[0-9A-Z]{15}|[0-9A-Z]{20})$/;

/** Why `value` is not a taxpayer number, or undefined when it is one. */
export function taxNumberProblem(value: string): string | undefined {
  if (value.length === 18) {
    if (!USCC.test(value)) return 'is not a unified social credit code (18 characters, no I, O, S, V, Z)';
    let sum = 0;
    for (let i = 0; i < 17; i++) sum += USCC_CHARS.indexOf(value[i]!) * USCC_WEIGHTS[i]!;
    const check = USCC_CHARS[(31 - (sum % 31)) % 31];
    return value[17] === check ? undefined : 'has a wrong check character';
  }
  if (value.length === 15 || value.length === 20) {
    return LEGACY.test(value) ? undefined : 'must be digits and upper-case letters';
  }
  return 'must be 15, 18 or 20 characters';
}
