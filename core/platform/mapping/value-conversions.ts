import Big from 'big.js';
import { format, isValid } from 'date-fns';
import { FieldMappingFailure, shown } from './mapping-error.ts';
import { formatInZone, parseInZone } from './zoned-time.ts';

/**
 * The value conversions of mapping fields. Numbers travel as big.js decimals between steps, so a
 * chain such as "kg → g, round to 0 digits, to minor units" never meets a binary float; a decimal
 * becomes a JavaScript number only at the end, and only if the number says exactly the same.
 */

export type Rounding = 'reject' | 'half-up' | 'half-even' | 'down' | 'up';

const ROUNDING_MODE: Record<Exclude<Rounding, 'reject'>, Big.RoundingMode> = {
  down: Big.roundDown,
  'half-up': Big.roundHalfUp,
  'half-even': Big.roundHalfEven,
  up: Big.roundUp,
};

const DECIMAL = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d{1,3})?$/;

export function toDecimal(value: unknown): Big {
  if (value instanceof Big) return value;
  if (typeof value === 'number' && Number.isFinite(value)) return new Big(value);
  if (typeof value === 'string' && value.length <= 60 && DECIMAL.test(value.trim()))
    return new Big(value.trim());
  throw new FieldMappingFailure('invalid-number', `${shown(value)} is not a number`);
}

export function roundDecimal(value: Big, scale: number, rounding: Rounding): Big {
  if (rounding === 'reject') {
    const rounded = value.round(scale, Big.roundDown);
    if (!rounded.eq(value)) {
      throw new FieldMappingFailure(
        'precision-loss',
        `${value.toFixed()} has more than ${scale} decimal digit${scale === 1 ? '' : 's'} and the mapping does not round`,
      );
    }
    return rounded;
  }
  return value.round(scale, ROUNDING_MODE[rounding]);
}

const currencyDigits = new Map<string, number>();

/** Minor-unit digits of an ISO 4217 currency (CNY 2, JPY 0, KWD 3), from the platform's Intl data. */
export function minorDigits(currency: unknown): number {
  if (typeof currency !== 'string' || !/^[A-Z]{3}$/.test(currency)) {
    throw new FieldMappingFailure('invalid-currency', `${shown(currency)} is not an ISO 4217 currency code`);
  }
  let digits = currencyDigits.get(currency);
  if (digits === undefined) {
    digits =
      new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits ??
      2;
    currencyDigits.set(currency, digits);
  }
  return digits;
}

/** 500.05 CNY → "50005": the amount as integer minor units, a string (bigint-safe, as entities/money). */
export function decimalToMinor(amount: unknown, currency: unknown, rounding: Rounding): string {
  const digits = minorDigits(currency);
  const minor = roundDecimal(toDecimal(amount).times(new Big(10).pow(digits)), 0, rounding);
  return minor.eq(0) ? '0' : minor.toFixed(0);
}

/** "50005" CNY → 500.05 as a decimal; the amount must be an integer count of minor units. */
export function minorToDecimal(minor: unknown, currency: unknown): Big {
  const digits = minorDigits(currency);
  const amount = toDecimal(minor);
  if (!amount.round(0, Big.roundDown).eq(amount)) {
    throw new FieldMappingFailure('invalid-number', `${shown(minor)} is not a whole number of minor units`);
  }
  return amount.div(new Big(10).pow(digits));
}

/** A decimal as a JavaScript number, only when the number is exactly that decimal. */
export function decimalToNumber(value: Big): number {
  const number = Number(value.toString());
  if (!Number.isFinite(number) || !new Big(number).eq(value)) {
    throw new FieldMappingFailure(
      'out-of-range',
      `${value.toFixed()} cannot be written exactly as a JSON number`,
    );
  }
  return number;
}

const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?([Zz]|[+-]\d{2}:?\d{2})$/;

export interface DateConversion {
  parse: string;
  format: string;
  timezone?: string;
}

/** Throws at load time for an unknown zone or a pattern date-fns cannot use. */
export function checkDateConversion(conversion: DateConversion): void {
  const usesPattern = (text: string) => !['iso', 'epoch-ms', 'epoch-s'].includes(text);
  if ((usesPattern(conversion.parse) || usesPattern(conversion.format)) && !conversion.timezone) {
    throw new Error('a date pattern reads or writes wall-clock time: name its timezone (e.g. Asia/Shanghai)');
  }
  if (conversion.timezone) {
    try {
      new Intl.DateTimeFormat('en', { timeZone: conversion.timezone });
    } catch {
      throw new Error(`"${conversion.timezone}" is not an IANA time zone`);
    }
  }
  for (const pattern of [conversion.parse, conversion.format]) {
    if (!usesPattern(pattern)) continue;
    try {
      format(new Date(0), pattern);
    } catch (error) {
      throw new Error(`date pattern "${pattern}": ${(error as Error).message}`);
    }
  }
}

function parseDate(value: unknown, conversion: DateConversion): Date {
  const invalid = () =>
    new FieldMappingFailure('invalid-date', `${shown(value)} is not a date in ${conversion.parse} form`);
  if (conversion.parse === 'epoch-ms' || conversion.parse === 'epoch-s') {
    const number = typeof value === 'string' && /^\d{1,16}$/.test(value) ? Number(value) : value;
    if (typeof number !== 'number' || !Number.isSafeInteger(number)) throw invalid();
    return new Date(conversion.parse === 'epoch-s' ? number * 1000 : number);
  }
  if (typeof value !== 'string' || value.length > 64) throw invalid();
  if (conversion.parse === 'iso') {
    // Without an offset, an ISO time is ambiguous: refuse it rather than guess the server's zone.
    if (!RFC3339.test(value)) throw invalid();
    const date = new Date(value);
    if (!isValid(date)) throw invalid();
    return date;
  }
  const date = parseInZone(value, conversion.parse, conversion.timezone ?? 'UTC');
  if (!isValid(date)) throw invalid();
  return date;
}

export function convertDate(value: unknown, conversion: DateConversion): string | number {
  const date = parseDate(value, conversion);
  if (!isValid(date)) throw new FieldMappingFailure('invalid-date', `${shown(value)} is out of range`);
  switch (conversion.format) {
    case 'iso':
      return date.toISOString();
    case 'epoch-ms':
      return date.getTime();
    case 'epoch-s':
      return Math.floor(date.getTime() / 1000);
    default:
      return formatInZone(date, conversion.format, conversion.timezone ?? 'UTC');
  }
}

export type ValueType = 'string' | 'integer' | 'number' | 'boolean';

/** The final `type` step: converts only when nothing is lost or guessed. */
export function castValue(value: unknown, type: ValueType): unknown {
  const fail = () =>
    new FieldMappingFailure(
      'invalid-type',
      `${shown(value instanceof Big ? value.toFixed() : value)} is not ${type === 'integer' ? 'an' : 'a'} ${type}`,
    );
  switch (type) {
    case 'string':
      if (typeof value === 'string') return value;
      if (value instanceof Big) return value.toFixed();
      if (typeof value === 'number' || typeof value === 'boolean') return String(value);
      throw fail();
    case 'integer': {
      let decimal: Big;
      try {
        decimal = toDecimal(value);
      } catch {
        throw fail();
      }
      if (!decimal.round(0, Big.roundDown).eq(decimal)) throw fail();
      const number = Number(decimal.toFixed(0));
      if (!Number.isSafeInteger(number)) {
        throw new FieldMappingFailure(
          'out-of-range',
          `${decimal.toFixed()} is beyond the safe integer range`,
        );
      }
      return number;
    }
    case 'number': {
      let decimal: Big;
      try {
        decimal = toDecimal(value);
      } catch {
        throw fail();
      }
      return decimalToNumber(decimal);
    }
    case 'boolean':
      if (typeof value === 'boolean') return value;
      if (value === 'true' || value === 1 || value === '1') return true;
      if (value === 'false' || value === 0 || value === '0') return false;
      throw fail();
  }
}

/** Decimals left over at the end of a field become numbers (exactly) or it fails. */
export function finalValue(value: unknown): unknown {
  return value instanceof Big ? decimalToNumber(value) : value;
}
