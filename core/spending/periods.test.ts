import { describe, expect, it } from '@jest/globals';
import { calendarPeriod, isKnownTimeZone, periodFrom, startOfLocalDay, wallClock } from './periods.ts';

const iso = (date: Date) => date.toISOString();

describe('calendarPeriod', () => {
  it('puts 2026-03-31T16:30Z in April in Shanghai (UTC+8) but in March in UTC', () => {
    const at = new Date('2026-03-31T16:30:00Z');
    const shanghai = calendarPeriod(at, 'month', 'Asia/Shanghai');
    expect(shanghai.label).toBe('2026-04');
    expect(iso(shanghai.start)).toBe('2026-03-31T16:00:00.000Z');
    expect(iso(shanghai.end)).toBe('2026-04-30T16:00:00.000Z');
    expect(calendarPeriod(at, 'month', 'UTC').label).toBe('2026-03');
  });

  it('starts a month at local midnight to the millisecond', () => {
    const start = new Date('2026-03-31T16:00:00.000Z');
    expect(calendarPeriod(start, 'month', 'Asia/Shanghai').label).toBe('2026-04');
    expect(calendarPeriod(new Date(start.getTime() - 1), 'month', 'Asia/Shanghai').label).toBe('2026-03');
  });

  it('draws quarters Q1..Q4 and crosses the year end in the local zone', () => {
    const q2 = calendarPeriod(new Date('2026-03-31T16:30:00Z'), 'quarter', 'Asia/Shanghai');
    expect(q2.label).toBe('2026-Q2');
    expect(iso(q2.start)).toBe('2026-03-31T16:00:00.000Z');
    expect(iso(q2.end)).toBe('2026-06-30T16:00:00.000Z');

    // 2026-12-31T17:00Z is already 2027-01-01 01:00 in Shanghai.
    const q1 = calendarPeriod(new Date('2026-12-31T17:00:00Z'), 'quarter', 'Asia/Shanghai');
    expect(q1.label).toBe('2027-Q1');
    expect(iso(q1.start)).toBe('2026-12-31T16:00:00.000Z');
    expect(iso(q1.end)).toBe('2027-03-31T16:00:00.000Z');

    const q4 = calendarPeriod(new Date('2026-12-31T15:59:59Z'), 'quarter', 'Asia/Shanghai');
    expect(q4.label).toBe('2026-Q4');
    expect(iso(q4.start)).toBe('2026-09-30T16:00:00.000Z');
    expect(iso(q4.end)).toBe('2026-12-31T16:00:00.000Z');

    expect(calendarPeriod(new Date('2026-08-15T00:00:00Z'), 'quarter', 'UTC').label).toBe('2026-Q3');
    expect(calendarPeriod(new Date('2026-08-15T00:00:00Z'), 'year', 'UTC').label).toBe('2026');
  });

  it('handles February of a leap year and months of different lengths', () => {
    const feb = calendarPeriod(new Date('2028-02-29T12:00:00Z'), 'month', 'UTC');
    expect(iso(feb.start)).toBe('2028-02-01T00:00:00.000Z');
    expect(iso(feb.end)).toBe('2028-03-01T00:00:00.000Z');
  });

  it('follows daylight saving time: periods are local-midnight to local-midnight', () => {
    // Berlin switches to summer time on 2026-03-29: April starts at 22:00Z, March started at 23:00Z.
    const april = calendarPeriod(new Date('2026-04-10T12:00:00Z'), 'month', 'Europe/Berlin');
    expect(iso(april.start)).toBe('2026-03-31T22:00:00.000Z');
    const march = calendarPeriod(new Date('2026-03-10T12:00:00Z'), 'month', 'Europe/Berlin');
    expect(iso(march.start)).toBe('2026-02-28T23:00:00.000Z');
    expect(iso(march.end)).toBe(iso(april.start));
    // New York, west of UTC: 2026-04-01T03:00Z is still March 31st there.
    expect(calendarPeriod(new Date('2026-04-01T03:00:00Z'), 'month', 'America/New_York').label).toBe(
      '2026-03',
    );
  });

  it('starts a day at the clock jump where daylight saving skips midnight', () => {
    // Chile: 2024-09-08 00:00 does not exist (clocks go from 23:59:59 to 01:00, UTC-4 to UTC-3).
    const start = startOfLocalDay({ year: 2024, month: 9, day: 8 }, 'America/Santiago');
    expect(iso(start)).toBe('2024-09-08T04:00:00.000Z');
    expect(wallClock(start, 'America/Santiago')).toMatchObject({ day: 8, hour: 1, minute: 0 });
    expect(wallClock(new Date(start.getTime() - 1000), 'America/Santiago')).toMatchObject({ day: 7 });
  });
});

describe('periodFrom (budgets)', () => {
  it('runs a fiscal year from April to March in the local zone', () => {
    const year = periodFrom({ year: 2026, month: 4, day: 1 }, 'year', 'Asia/Shanghai');
    expect(iso(year.start)).toBe('2026-03-31T16:00:00.000Z');
    expect(iso(year.end)).toBe('2027-03-31T16:00:00.000Z');
    expect(year.label).toBe('2026-04-01..2027-03-31');
    expect(year.dayAfter).toEqual({ year: 2027, month: 4, day: 1 });
  });

  it('runs a quarter from November into the next year', () => {
    const quarter = periodFrom({ year: 2026, month: 11, day: 1 }, 'quarter', 'UTC');
    expect(quarter.label).toBe('2026-11-01..2027-01-31');
    expect(iso(quarter.end)).toBe('2027-02-01T00:00:00.000Z');
  });
});

describe('isKnownTimeZone', () => {
  it('accepts IANA zones and refuses made-up ones', () => {
    expect(isKnownTimeZone('Asia/Shanghai')).toBe(true);
    expect(isKnownTimeZone('UTC')).toBe(true);
    expect(isKnownTimeZone('Mars/Olympus_Mons')).toBe(false);
  });
});
