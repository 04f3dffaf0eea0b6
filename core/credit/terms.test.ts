import { describe, expect, it } from '@jest/globals';
import { businessDate, daysPast, dueDate } from './terms.ts';

describe('due dates from credit terms', () => {
  it('net N days counts calendar days across month and year ends', () => {
    expect(dueDate('2026-01-31', { kind: 'net', days: 30 })).toBe('2026-03-02');
    expect(dueDate('2028-01-31', { kind: 'net', days: 30 })).toBe('2028-03-01');
    expect(dueDate('2026-12-15', { kind: 'net', days: 30 })).toBe('2027-01-14');
    expect(dueDate('2026-06-10', { kind: 'net', days: 0 })).toBe('2026-06-10');
  });

  it('month-end (月结) N: N days after the last day of the issue month', () => {
    expect(dueDate('2026-01-15', { kind: 'month_end', days: 30 })).toBe('2026-03-02');
    expect(dueDate('2026-01-31', { kind: 'month_end', days: 30 })).toBe('2026-03-02');
    expect(dueDate('2028-01-01', { kind: 'month_end', days: 30 })).toBe('2028-03-01');
    expect(dueDate('2026-02-03', { kind: 'month_end', days: 0 })).toBe('2026-02-28');
    expect(dueDate('2028-02-03', { kind: 'month_end', days: 0 })).toBe('2028-02-29');
    expect(dueDate('2026-12-31', { kind: 'month_end', days: 60 })).toBe('2027-03-01');
    expect(dueDate('2026-04-30', { kind: 'month_end', days: 31 })).toBe('2026-05-31');
  });

  it('business dates are Shanghai calendar dates, not UTC ones', () => {
    expect(businessDate(new Date('2026-01-31T15:59:59Z'))).toBe('2026-01-31');
    expect(businessDate(new Date('2026-01-31T16:00:00Z'))).toBe('2026-02-01');
    expect(businessDate(new Date('2026-12-31T17:30:00Z'))).toBe('2027-01-01');
  });

  it('days past due are calendar days, negative before the due date', () => {
    expect(daysPast('2026-02-28', '2026-03-01')).toBe(1);
    expect(daysPast('2028-02-28', '2028-03-01')).toBe(2);
    expect(daysPast('2026-03-10', '2026-03-01')).toBe(-9);
  });
});
