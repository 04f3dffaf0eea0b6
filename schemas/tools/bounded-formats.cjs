'use strict';
/**
 * ajv-formats' full formats with a length ceiling in front of each string format.
 *
 * The validators report every failing keyword (allErrors), so a format runs even on a string that
 * `maxLength` already refuses. A format regex run over a multi-megabyte string can overflow V8's
 * regular-expression stack and throw a RangeError (a 500 instead of a 400). A string longer than
 * any valid value of its format is refused before the regex runs. Used by the generator at compile
 * time and by the generated validators at run time (the call shape must match).
 */
const { fullFormats } = require('ajv-formats/dist/formats');

/** The longest valid value of each format; other string formats get DEFAULT_MAX. */
const MAX_LENGTH = {
  email: 254, // RFC 5321 path limit
  'idn-email': 254,
  hostname: 253,
  'idn-hostname': 253,
  ipv4: 15,
  ipv6: 45,
  uuid: 36,
  date: 32,
  time: 64,
  'date-time': 64,
  'iso-time': 64,
  'iso-date-time': 64,
  duration: 128,
  byte: 16 * 1024 * 1024,
  binary: 16 * 1024 * 1024,
  regex: 4096,
};
const DEFAULT_MAX = 65536;

function bounded(check, max) {
  const test = check instanceof RegExp ? (value) => check.test(value) : check;
  return (value) => typeof value !== 'string' || (value.length <= max && test(value));
}

const boundedFormats = {};
for (const [name, format] of Object.entries(fullFormats)) {
  const max = MAX_LENGTH[name] ?? DEFAULT_MAX;
  if (format instanceof RegExp || typeof format === 'function') {
    boundedFormats[name] = bounded(format, max);
  } else if (format && typeof format === 'object' && (format.type ?? 'string') === 'string') {
    boundedFormats[name] = { ...format, validate: bounded(format.validate, max) };
  } else {
    boundedFormats[name] = format;
  }
}

module.exports = { boundedFormats };
