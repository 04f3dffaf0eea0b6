/**
 * Calendar periods in a time zone, with nothing but `Intl` (Node ships full ICU; Temporal is not
 * available without flags). A period is a half-open interval of instants `[start, end)`: the first
 * instant of its first local day up to the first instant of the next period's first local day.
 */

export type PeriodKind = 'month' | 'quarter' | 'year';

export interface PeriodWindow {
  kind: PeriodKind;
  /** `2026-04`, `2026-Q2`, `2026`; for a budget, its first and last day (`2026-04-01..2026-06-30`). */
  label: string;
  start: Date;
  end: Date;
  timeZone: string;
}

/** A local calendar day. */
export interface LocalDate {
  year: number;
  month: number;
  day: number;
}

export const DEFAULT_TIME_ZONE = 'Asia/Shanghai';

const MONTHS: Record<PeriodKind, number> = { month: 1, quarter: 3, year: 12 };
const DAY_MS = 86_400_000;

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let format = formatters.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(timeZone, format);
  }
  return format;
}

/** Whether `timeZone` is an IANA zone this runtime knows. */
export function isKnownTimeZone(timeZone: string): boolean {
  try {
    formatter(timeZone);
    return true;
  } catch {
    return false;
  }
}

interface WallClock extends LocalDate {
  hour: number;
  minute: number;
  second: number;
}

/** What a wall clock in `timeZone` shows at `instant` (to the second). */
export function wallClock(instant: Date, timeZone: string): WallClock {
  const fields: Record<string, number> = {};
  for (const part of formatter(timeZone).formatToParts(instant)) {
    if (part.type !== 'literal') fields[part.type] = Number(part.value);
  }
  return {
    year: fields.year!,
    month: fields.month!,
    day: fields.day!,
    hour: fields.hour!,
    minute: fields.minute!,
    second: fields.second!,
  };
}

/** The zone's offset from UTC at `instantMs`, in milliseconds (east positive). */
function offsetAt(instantMs: number, timeZone: string): number {
  const seconds = Math.floor(instantMs / 1000) * 1000;
  const w = wallClock(new Date(seconds), timeZone);
  return Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second) - seconds;
}

function sameDay(a: LocalDate, b: LocalDate): boolean {
  return a.year === b.year && a.month === b.month && a.day === b.day;
}

/**
 * The first instant of a local day in `timeZone`. Usually local midnight; where a daylight-saving
 * change skips midnight (America/Santiago, ...) the day starts when the clock jumps, and where
 * midnight happens twice the earlier one counts.
 */
export function startOfLocalDay(date: LocalDate, timeZone: string): Date {
  const asUtc = Date.UTC(date.year, date.month - 1, date.day);
  // The offsets a day either side cover any transition near this midnight.
  const candidates = [...new Set([offsetAt(asUtc - DAY_MS, timeZone), offsetAt(asUtc + DAY_MS, timeZone)])]
    .map((offset) => asUtc - offset)
    .sort((a, b) => a - b);
  for (const candidate of candidates) {
    if (sameDay(wallClock(new Date(candidate), timeZone), date)) return new Date(candidate);
  }
  // Unreachable for real zones; fall back to the offset at UTC midnight.
  return new Date(asUtc - offsetAt(asUtc, timeZone));
}

/** `date` plus `months` calendar months (the day of month is kept; callers use day 1). */
export function addMonths(date: LocalDate, months: number): LocalDate {
  const index = date.year * 12 + (date.month - 1) + months;
  return { year: Math.floor(index / 12), month: (index % 12) + 1, day: date.day };
}

function pad(value: number, width = 2): string {
  return String(value).padStart(width, '0');
}

export function formatLocalDate(date: LocalDate): string {
  return `${pad(date.year, 4)}-${pad(date.month)}-${pad(date.day)}`;
}

/** `YYYY-MM-DD` as a local date (already validated by the schema). */
export function parseLocalDate(text: string): LocalDate {
  const [year, month, day] = text.split('-').map(Number);
  return { year: year!, month: month!, day: day! };
}

/** The calendar month, quarter or year of `timeZone` that contains `at`. */
export function calendarPeriod(at: Date, kind: PeriodKind, timeZone: string): PeriodWindow {
  const local = wallClock(at, timeZone);
  const firstMonth =
    kind === 'month' ? local.month : kind === 'quarter' ? local.month - ((local.month - 1) % 3) : 1;
  const first: LocalDate = { year: local.year, month: firstMonth, day: 1 };
  const label =
    kind === 'month'
      ? `${pad(local.year, 4)}-${pad(local.month)}`
      : kind === 'quarter'
        ? `${pad(local.year, 4)}-Q${(firstMonth - 1) / 3 + 1}`
        : pad(local.year, 4);
  return {
    kind,
    label,
    start: startOfLocalDay(first, timeZone),
    end: startOfLocalDay(addMonths(first, MONTHS[kind]), timeZone),
    timeZone,
  };
}

/** A budget's period: `kind` long from the local day `first` (any month: fiscal years vary). */
export function periodFrom(
  first: LocalDate,
  kind: PeriodKind,
  timeZone: string,
): PeriodWindow & { firstDay: LocalDate; dayAfter: LocalDate } {
  const dayAfter = addMonths(first, MONTHS[kind]);
  const end = startOfLocalDay(dayAfter, timeZone);
  const lastDay = wallClock(new Date(end.getTime() - 1), timeZone);
  return {
    kind,
    label: `${formatLocalDate(first)}..${formatLocalDate(lastDay)}`,
    start: startOfLocalDay(first, timeZone),
    end,
    timeZone,
    firstDay: first,
    dayAfter,
  };
}
