import { describe, expect, it } from '@jest/globals';
import { taxNumberProblem } from './tax-number.ts';

describe('taxpayer numbers (税号)', () => {
  it('accepts unified social credit codes whose check character is right', () => {
    for (const code of ['91440300708461136T', '91350100M000100Y43', '91310000MA1FL4B24G']) {
      expect(taxNumberProblem(code)).toBeUndefined();
    }
  });

  it('refuses a wrong check character, forbidden letters and wrong lengths', () => {
    expect(taxNumberProblem('91440300708461136A')).toBe('has a wrong check character');
    // O is not in the code's alphabet (it reads like 0).
    expect(taxNumberProblem('91440300708461136O')).toMatch(/unified social credit code/);
    expect(taxNumberProblem('9144030070846113')).toBe('must be 15, 18 or 20 characters');
    expect(taxNumberProblem('')).toBe('must be 15, 18 or 20 characters');
  });

  it('accepts 15- and 20-character legacy tax registration numbers by shape', () => {
    expect(taxNumberProblem('110108551385082')).toBeUndefined();
    expect(taxNumberProblem('11010819800101123X00')).toBeUndefined();
    expect(taxNumberProblem('110108-51385082')).toBe('must be digits and upper-case letters');
  });
});
