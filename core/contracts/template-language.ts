import { UnprocessableRequest } from '../platform/errors/hub-errors.ts';

/**
 * The contract template language: plain text with `{{path}}` placeholders and nothing else — no
 * expressions, no loops, no code, so a template written by staff can only place known values.
 * A line holding just `{{lines}}` becomes the table of the subject's lines in the PDF.
 *
 * Every placeholder must name a known variable (`TEMPLATE_VARIABLES`): a template naming another is
 * refused when saved (422 with the names), so a contract never prints an empty hole. Values are
 * inserted as text, never interpreted.
 */
export const TEMPLATE_VARIABLES = {
  'contract.number': '合同编号 Contract number',
  'contract.title': '合同标题 Title',
  'contract.date': '签订日期 Date (Beijing)',
  'buyer.name': '买方 Buyer company',
  'seller.name': '卖方 Seller (HUB_SELLER_NAME)',
  'signer.name': '买方签署人 Buyer signatory',
  'subject.kind': '依据 Order or quote (订单 / 报价)',
  'subject.number': '订单号或报价号 Order or quote number',
  'subject.total': '合同金额 Total, e.g. 2,368.35 CNY',
  'subject.totalInWords': '金额大写 Total in Chinese capitals (人民币贰仟叁佰陆拾捌元叁角伍分)',
  'subject.currency': '币种 Currency',
  'sign.deadline': '签署截止 Sign by (Beijing)',
} as const;
export type TemplateVariable = keyof typeof TEMPLATE_VARIABLES;

/** The line that places the lines table. */
export const LINES_MARKER = '{{lines}}';

const PLACEHOLDER = /\{\{\s*([^{}]*?)\s*\}\}/g;
const MAX_PLACEHOLDERS = 500;

/** The placeholders a template body names, and the ones that are not variables (in order, once each). */
export function placeholdersOf(body: string): { names: string[]; unknown: string[] } {
  const names: string[] = [];
  for (const match of body.matchAll(PLACEHOLDER)) {
    const name = match[1]!;
    if (!names.includes(name)) names.push(name);
    if (names.length > MAX_PLACEHOLDERS) break;
  }
  const known = (name: string) => name in TEMPLATE_VARIABLES || name === 'lines';
  return { names, unknown: names.filter((name) => !known(name)) };
}

/** Refuses a template naming unknown variables, a `{{lines}}` that is not alone on its line, or stray braces. */
export function checkTemplate(body: string): void {
  const { unknown } = placeholdersOf(body);
  const errors: Array<{ pointer: string; detail: string }> = [];
  if (unknown.length > 0) {
    errors.push({
      pointer: '/body',
      detail: `unknown placeholders ${unknown.map((name) => `{{${name.slice(0, 60)}}}`).join(', ')}; known: ${Object.keys(TEMPLATE_VARIABLES).join(', ')}, lines`,
    });
  }
  for (const line of body.split('\n')) {
    if (line.includes(LINES_MARKER) && line.trim() !== LINES_MARKER) {
      errors.push({ pointer: '/body', detail: '{{lines}} must stand alone on its line' });
      break;
    }
  }
  if (body.replace(PLACEHOLDER, '').match(/\{\{|\}\}/)) {
    errors.push({ pointer: '/body', detail: 'unmatched {{ or }}' });
  }
  if (errors.length > 0)
    throw new UnprocessableRequest('invalid-template', 'The template is not valid', { errors });
}

/** A rendered template: paragraphs of text, and where the lines table goes. */
export type RenderedBlock = { kind: 'text'; text: string } | { kind: 'lines' };

/** Fills the placeholders with `values` (text as is) and splits off the lines table. */
export function renderTemplate(body: string, values: Record<TemplateVariable, string>): RenderedBlock[] {
  const blocks: RenderedBlock[] = [];
  let text: string[] = [];
  const flush = () => {
    if (text.length > 0) blocks.push({ kind: 'text', text: text.join('\n') });
    text = [];
  };
  for (const line of body.replace(/\r\n?/g, '\n').split('\n')) {
    if (line.trim() === LINES_MARKER) {
      flush();
      blocks.push({ kind: 'lines' });
      continue;
    }
    text.push(
      line.replace(PLACEHOLDER, (_whole, name: string) =>
        name in values ? values[name as TemplateVariable] : `{{${name}}}`,
      ),
    );
  }
  flush();
  return blocks;
}

const DIGITS = ['零', '壹', '贰', '叁', '肆', '伍', '陆', '柒', '捌', '玖'];
const SMALL_UNITS = ['', '拾', '佰', '仟'];
const BIG_UNITS = ['', '万', '亿', '万亿'];

/** Four digits (0–9999) in capitals, with the zeros a cheque writes. */
function section(value: number): string {
  let out = '';
  let zero = false;
  for (let i = 3; i >= 0; i--) {
    const digit = Math.floor(value / 10 ** i) % 10;
    if (digit === 0) {
      zero = out !== '';
    } else {
      if (zero) out += '零';
      out += DIGITS[digit]! + SMALL_UNITS[i]!;
      zero = false;
    }
  }
  return out;
}

/**
 * An amount in fen (CNY minor units) in Chinese financial capitals (人民币大写), exactly:
 * 236835 → 人民币贰仟叁佰陆拾捌元叁角伍分; 100000 → 人民币壹仟元整; 5 → 人民币伍分.
 */
export function chineseCapitalAmount(fen: bigint): string {
  if (fen < 0n) return `负${chineseCapitalAmount(-fen)}`;
  const yuan = fen / 100n;
  const jiao = Number((fen / 10n) % 10n);
  const cents = Number(fen % 10n);
  let integer = '';
  if (yuan > 0n) {
    const groups: number[] = [];
    for (let rest = yuan; rest > 0n; rest /= 10000n) groups.push(Number(rest % 10000n));
    if (groups.length > BIG_UNITS.length) return `人民币${fen.toString()}分`;
    let needZero = false;
    for (let i = groups.length - 1; i >= 0; i--) {
      const group = groups[i]!;
      if (group === 0) {
        needZero = integer !== '';
        continue;
      }
      if (integer !== '' && (needZero || group < 1000)) integer += '零';
      integer += section(group) + BIG_UNITS[i]!;
      needZero = false;
    }
    integer += '元';
  }
  let fraction = '';
  if (jiao === 0 && cents === 0) fraction = yuan > 0n ? '整' : '零元整';
  else {
    // A whole part ending in zero is followed by 零 (壹拾万柒仟元零伍角), as banks write it.
    if (jiao > 0) fraction += `${yuan > 0n && yuan % 10n === 0n ? '零' : ''}${DIGITS[jiao]}角`;
    else if (yuan > 0n) fraction += '零';
    if (cents > 0) fraction += `${DIGITS[cents]}分`;
  }
  return `人民币${integer}${fraction}`;
}
