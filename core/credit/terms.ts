import { TZDate } from '@date-fns/tz';
import { addDays, differenceInCalendarDays, format, lastDayOfMonth, parseISO } from 'date-fns';

/**
 * Credit terms and business dates. Due dates are calendar dates in the hub's business time zone
 * (Asia/Shanghai): an invoice issued at 23:30 UTC on Jan 31 is issued on Feb 1 in Shanghai.
 *
 * - `net` N: due N days after the issue date (N = 0: due on the issue date).
 * - `month_end` N (月结): due N days after the last day of the issue month, e.g. issued Jan 15 on
 *   月结30 → Jan 31 + 30 days = Mar 2 (Mar 1 in a leap year).
 */
export type TermsKind = 'net' | 'month_end';

export interface Terms {
  kind: TermsKind;
  days: number;
}

export const BUSINESS_TIME_ZONE = 'Asia/Shanghai';

/** `yyyy-MM-dd` of a plain calendar date. */
export type BusinessDate = string;

/** The business date at `instant` in `timeZone`. */
export function businessDate(instant: Date, timeZone = BUSINESS_TIME_ZONE): BusinessDate {
  return format(new TZDate(instant.getTime(), timeZone), 'yyyy-MM-dd');
}

/** The due date of an invoice issued on `issuedOn` under `terms`. */
export function dueDate(issuedOn: BusinessDate, terms: Terms): BusinessDate {
  const issued = parseISO(issuedOn);
  const start = terms.kind === 'month_end' ? lastDayOfMonth(issued) : issued;
  return format(addDays(start, terms.days), 'yyyy-MM-dd');
}

/** Days from `due` to `today` (positive when `today` is later), in calendar days. */
export function daysPast(due: BusinessDate, today: BusinessDate): number {
  return differenceInCalendarDays(parseISO(today), parseISO(due));
}

/** `date` + `days` as a business date. */
export function plusDays(date: BusinessDate, days: number): BusinessDate {
  return format(addDays(parseISO(date), days), 'yyyy-MM-dd');
}
