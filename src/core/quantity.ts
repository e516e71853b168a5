/**
 * A container resource quantity as the API server stores it: parsed as a
 * resource.Quantity (k8s.io/apimachinery), rounded up to thousandths (core
 * v1's SetDefaults_ResourceList), and written back.
 *
 * Metacontroller compares the Deployment it would apply with the stored one
 * field by field, and a quantity the API server rewrites (`cpu: "0.5"` is
 * stored as `500m`, `1024Mi` as `1Gi`, an integer `2` as the string "2")
 * would differ on every sync, and be updated on every sync. So the hook
 * writes quantities the way the API server writes them back:
 * - A string the parser reads as already canonical is kept exactly as
 *   written (Quantity keeps the text it parsed): up to 18 digits, a decimal
 *   scale that is a multiple of 3 and at least -3, no trailing "000" and no
 *   leading zero (`100m`, `1500m`, `1.500`, `+2`, `1e3`); a binary suffix on
 *   an integer not divisible by 8 (`100Mi`).
 * - Any other is the value, rounded away from zero to a thousandth, written
 *   as mantissa and suffix: the largest suffix of its own kind (decimal SI,
 *   binary SI, or an exponent) that leaves an integer, with the exponent a
 *   multiple of 3. Binary SI below 1024, or not an integer, is written as
 *   decimal SI; a binary value beyond 2^63 - 1 is capped there.
 * What the grammar (QUANTITY) refuses, and a decimal SI value too large for
 * any suffix (1000E and more, which the API server writes differently from
 * one version to the next), is left as written.
 */

const DECIMAL_SUFFIXES: Record<string, number> = { n: -9, u: -6, m: -3, '': 0, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };
const DECIMAL_SUFFIX_OF = new Map(Object.entries(DECIMAL_SUFFIXES).map(([suffix, exponent]) => [exponent, suffix]));
const BINARY_SUFFIXES = ['', 'Ki', 'Mi', 'Gi', 'Ti', 'Pi', 'Ei'];

/** Sign, digits before and after the point, and the suffix: the parser's split of a quantity. */
const PARTS = /^([+-]?)([0-9]*)(?:\.([0-9]*))?([a-zA-Z]*|[eE][+-]?[0-9]+)$/;
/** The parser's exponents are int32 (wrapped around beyond, in older versions; refused in newer ones): kept as written. */
const MAX_EXPONENT = 2 ** 31 - 1;
const INT64_MAX = (1n << 63n) - 1n;
/** Resource lists are rounded up to milli units, the finest a container's resources take. */
const MILLI = 3;

type Format = 'DecimalSI' | 'BinarySI' | 'DecimalExponent';

interface Suffix {
  base: 10 | 2;
  exponent: number;
  format: Format;
}

function suffixOf(text: string): Suffix | undefined {
  if (Object.hasOwn(DECIMAL_SUFFIXES, text)) return { base: 10, exponent: DECIMAL_SUFFIXES[text]!, format: 'DecimalSI' };
  const binary = BINARY_SUFFIXES.indexOf(text);
  if (binary > 0) return { base: 2, exponent: binary * 10, format: 'BinarySI' };
  if (/^[eE][+-]?[0-9]+$/.test(text)) {
    const exponent = Number(text.slice(1));
    return Math.abs(exponent) <= MAX_EXPONENT ? { base: 10, exponent, format: 'DecimalExponent' } : undefined;
  }
  return undefined;
}

/** Whether ParseQuantity keeps the text as written: its fast path, for a value it reads as canonical. */
function keptAsWritten(num: string, denom: string, suffix: Suffix): boolean {
  const shifted = num + denom;
  if (suffix.format === 'BinarySI') {
    // 1Mi (2^20) has about 6 digits of decimal precision: the parser's own estimate of what fits in an int64.
    const precision = 15 - num.length - Math.trunc((suffix.exponent * 3) / 10) - 1;
    if (denom !== '' || precision < 0) return false;
    const value = BigInt(shifted);
    return value << BigInt(suffix.exponent) <= INT64_MAX && (value & 7n) !== 0n;
  }
  const scale = suffix.exponent - denom.length;
  return 18 - shifted.length >= 0 && scale >= -MILLI && scale % 3 === 0 && !shifted.endsWith('000') && shifted[0] !== '0';
}

/** A magnitude: mantissa * 10^exponent, the exponent kept apart so that `1e300` costs no 300-digit number. */
interface Magnitude {
  mantissa: bigint;
  exponent: number;
}

/** `digits * 10^exponent` rounded up to thousandths (a value below one thousandth is one). */
function roundedUp(digits: bigint, exponent: number): Magnitude {
  if (exponent >= -MILLI) return { mantissa: digits, exponent };
  const dropped = -MILLI - exponent;
  if (dropped > digits.toString().length) return { mantissa: 1n, exponent: -MILLI };
  const divisor = 10n ** BigInt(dropped);
  return { mantissa: (digits + divisor - 1n) / divisor, exponent: -MILLI };
}

/**
 * The digits of a quantity written with `fraction.length` of them after the point, and its suffix, rounded up to
 * thousandths; a binary value beyond 2^63 - 1 capped there, as the parser caps it.
 */
function magnitudeOf(digits: bigint, fraction: string, suffix: Suffix): Magnitude {
  if (suffix.base === 10) return roundedUp(digits, suffix.exponent - fraction.length);
  const magnitude = roundedUp(digits << BigInt(suffix.exponent), -fraction.length);
  return magnitude.mantissa > INT64_MAX * 10n ** BigInt(-magnitude.exponent) ? { mantissa: INT64_MAX, exponent: 0 } : magnitude;
}

/** `value` as m * base^times with m no longer divisible by base. */
function removeFactors(value: bigint, base: bigint): [bigint, number] {
  let times = 0;
  while (value >= base && value % base === 0n) {
    value /= base;
    times++;
  }
  return [value, times];
}

/** A binary magnitude as a whole number, or undefined when it has thousandths. Binary magnitudes have exponents from -3 to 0. */
const wholeOf = ({ mantissa, exponent }: Magnitude): bigint | undefined => {
  const scale = 10n ** BigInt(-exponent);
  return mantissa % scale === 0n ? mantissa / scale : undefined;
};

/** The canonical text of a non-zero magnitude, or undefined where the API server has no suffix for it. */
function canonical(magnitude: Magnitude, format: Format): string | undefined {
  const whole = format === 'BinarySI' ? wholeOf(magnitude) : undefined;
  if (whole !== undefined && whole >= 1024n) {
    const [mantissa, times] = removeFactors(whole, 1024n);
    return `${mantissa}${BINARY_SUFFIXES[times]}`;
  }
  let [mantissa, zeros] = removeFactors(magnitude.mantissa, 10n);
  let exponent = magnitude.exponent + zeros;
  // The exponent down to a multiple of 3, the mantissa up to match.
  const over = ((exponent % 3) + 3) % 3;
  mantissa *= 10n ** BigInt(over);
  exponent -= over;
  if (format === 'DecimalExponent') return exponent === 0 ? `${mantissa}` : `${mantissa}e${exponent}`;
  const suffix = DECIMAL_SUFFIX_OF.get(exponent);
  return suffix === undefined ? undefined : `${mantissa}${suffix}`;
}

/** The parser's split of a quantity, or undefined for what its grammar refuses. */
function parse(text: string): { sign: string; whole: string; fraction: string; suffix: Suffix } | undefined {
  const parts = PARTS.exec(text);
  const suffix = parts && suffixOf(parts[4]!);
  if (!parts || !suffix || parts[2]! + (parts[3] ?? '') === '') return undefined;
  return { sign: parts[1]!, whole: parts[2]!, fraction: parts[3] ?? '', suffix };
}

/** The quantity as the API server stores it in a container's resources; see the module comment. */
export function storedResourceQuantity(value: string | number): string {
  const text = String(value);
  const parsed = parse(text);
  if (!parsed) return text;
  const { sign, whole, fraction, suffix } = parsed;
  const num = whole.replace(/^0+/, '') || '0';
  if (keptAsWritten(num, fraction, suffix)) return text;
  const digits = BigInt(num + fraction);
  if (digits === 0n) return '0';
  const magnitude = magnitudeOf(digits, fraction, suffix);
  const written = canonical(magnitude, suffix.format);
  if (written === undefined) return text;
  return sign === '-' ? `-${written}` : written;
}

/** A quantity's value: `mantissa * 10^exponent`, negative or not (a zero never is). */
export interface QuantityValue extends Magnitude {
  negative: boolean;
}

/**
 * The value the API server compares a container's quantities by: rounded up to thousandths, as it stores them
 * (a request of `1.0001m` beside a limit of `1.5m` is 2m against 2m, equal). Undefined for what the grammar refuses.
 */
export function resourceQuantityValue(value: string | number): QuantityValue | undefined {
  const parsed = parse(String(value));
  if (!parsed) return undefined;
  const { sign, whole, fraction, suffix } = parsed;
  const digits = BigInt(whole + fraction || '0');
  if (digits === 0n) return { negative: false, mantissa: 0n, exponent: 0 };
  return { negative: sign === '-', ...magnitudeOf(digits, fraction, suffix) };
}

/** Negative, zero or positive as `a` is less than, equal to or greater than `b`. */
export function compareQuantityValues(a: QuantityValue, b: QuantityValue): number {
  if (a.negative !== b.negative) return a.negative ? -1 : 1;
  const order = compareMagnitudes(a, b);
  return a.negative ? -order : order;
}

function compareMagnitudes(a: Magnitude, b: Magnitude): number {
  if (a.mantissa === 0n || b.mantissa === 0n) return a.mantissa === b.mantissa ? 0 : a.mantissa === 0n ? -1 : 1;
  // Digits and exponent first: `1e999999999` against `5` needs no number of a billion digits.
  const orderA = a.mantissa.toString().length + a.exponent;
  const orderB = b.mantissa.toString().length + b.exponent;
  if (orderA !== orderB) return orderA < orderB ? -1 : 1;
  // Of one order, their exponents differ by no more than their digits do.
  const common = Math.min(a.exponent, b.exponent);
  const x = a.mantissa * 10n ** BigInt(a.exponent - common);
  const y = b.mantissa * 10n ** BigInt(b.exponent - common);
  return x < y ? -1 : x > y ? 1 : 0;
}

/**
 * The value rounded up to a whole number, as Quantity.Value() gives it, or undefined past 2^63 - 1 (where Value()
 * no longer holds it). Huge pages are counted in whole pages of it.
 */
export function wholeValueOf({ negative, mantissa, exponent }: QuantityValue): bigint | undefined {
  if (mantissa.toString().length + exponent > 19) return undefined;
  const scale = 10n ** BigInt(Math.abs(exponent));
  const whole = exponent >= 0 ? mantissa * scale : (mantissa + scale - 1n) / scale;
  return whole > INT64_MAX ? undefined : negative ? -whole : whole;
}

/** Whether the value is a whole number (an extended resource's quantity must be). */
export const isWholeQuantity = ({ mantissa, exponent }: Magnitude): boolean => exponent >= 0 || mantissa % 10n ** BigInt(-exponent) === 0n;

