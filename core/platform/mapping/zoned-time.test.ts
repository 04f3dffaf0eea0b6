import { TZDate, tz } from '@date-fns/tz';
import { format, parse } from 'date-fns';
import fc from 'fast-check';
import { formatInZone, parseInZone } from './zoned-time.ts';

/** The shortcut must agree with TZDate everywhere, DST changes and odd offsets included. */
const zones = [
  'Asia/Shanghai',
  'America/New_York',
  'Europe/Berlin',
  'Australia/Lord_Howe',
  'Asia/Kathmandu',
  'UTC',
];
const patterns = ['yyyy-MM-dd HH:mm:ss', "yyyy-MM-dd'T'HH:mm:ss.SSS", 'yyyyMMddHHmm'];
const instants = fc.integer({ min: Date.UTC(1990, 0, 1), max: Date.UTC(2060, 0, 1) });

test('formatting an instant as wall-clock time matches TZDate', () => {
  fc.assert(
    fc.property(
      instants,
      fc.constantFrom(...zones),
      fc.constantFrom(...patterns),
      (instant, zone, pattern) => {
        const date = new Date(instant);
        expect(formatInZone(date, pattern, zone)).toBe(format(new TZDate(instant, zone), pattern));
      },
    ),
    { numRuns: 3000 },
  );
});

test('reading a wall-clock time that exists once gives the instant TZDate gives', () => {
  fc.assert(
    fc.property(instants, fc.constantFrom(...zones), (instant, zone) => {
      const pattern = 'yyyy-MM-dd HH:mm:ss';
      const text = format(new TZDate(instant, zone), pattern);
      const expected = parse(text, pattern, new Date(0), { in: tz(zone) }).getTime();
      expect(parseInZone(text, pattern, zone).getTime()).toBe(expected);
    }),
    { numRuns: 3000 },
  );
});

test('DST edges in New York: the repeated hour reads as its first instant, as TZDate reads it', () => {
  const pattern = 'yyyy-MM-dd HH:mm';
  for (const text of ['2026-11-01 01:30', '2026-03-08 03:30', '2026-03-08 01:59']) {
    expect(parseInZone(text, pattern, 'America/New_York').toISOString()).toBe(
      new Date(parse(text, pattern, new Date(0), { in: tz('America/New_York') }).getTime()).toISOString(),
    );
  }
});
