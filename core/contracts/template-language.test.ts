import { describe, expect, it } from '@jest/globals';
import type { HubError } from '../platform/errors/hub-errors.ts';
import {
  checkTemplate,
  chineseCapitalAmount,
  placeholdersOf,
  renderTemplate,
  TEMPLATE_VARIABLES,
  type TemplateVariable,
} from './template-language.ts';

const values = Object.fromEntries(
  Object.keys(TEMPLATE_VARIABLES).map((name) => [name, `<${name}>`]),
) as Record<TemplateVariable, string>;

describe('contract templates', () => {
  it('fills known placeholders with text as is, and places the lines table where {{lines}} stands alone', () => {
    const blocks = renderTemplate(
      '买方：{{ buyer.name }}\n合同编号：{{contract.number}}\n{{lines}}\n合计 {{subject.total}}（{{subject.totalInWords}}）',
      { ...values, 'buyer.name': '{{seller.name}} <script>' },
    );
    expect(blocks).toEqual([
      { kind: 'text', text: '买方：{{seller.name}} <script>\n合同编号：<contract.number>' },
      { kind: 'lines' },
      { kind: 'text', text: '合计 <subject.total>（<subject.totalInWords>）' },
    ]);
  });

  it('refuses unknown placeholders, expressions, a {{lines}} inside text and stray braces with 422', () => {
    const refusal = (body: string) => {
      try {
        checkTemplate(body);
      } catch (error) {
        return error as HubError;
      }
      throw new Error(`accepted: ${body}`);
    };
    const unknown = refusal('{{buyer.name}} {{constructor.constructor}} {{ process.env.HUB_MASTER_KEY }}');
    expect(unknown.code).toBe(422);
    expect(unknown.type).toBe('invalid-template');
    expect(JSON.stringify(unknown.data)).toContain(
      '{{constructor.constructor}}, {{process.env.HUB_MASTER_KEY}}',
    );
    expect(refusal('{{#each lines}}x{{/each}}').code).toBe(422);
    expect(JSON.stringify(refusal('明细 {{lines}}').data)).toContain('must stand alone');
    expect(JSON.stringify(refusal('金额 {{subject.total}} }}').data)).toContain('unmatched');
    expect(() => checkTemplate('甲方 {{buyer.name}}\n{{lines}}\n乙方 {{seller.name}}')).not.toThrow();
    expect(placeholdersOf('{{a}} {{a}} {{b}}').names).toEqual(['a', 'b']);
  });

  it('writes amounts in Chinese financial capitals exactly', () => {
    expect(chineseCapitalAmount(236835n)).toBe('人民币贰仟叁佰陆拾捌元叁角伍分');
    expect(chineseCapitalAmount(100000n)).toBe('人民币壹仟元整');
    expect(chineseCapitalAmount(5n)).toBe('人民币伍分');
    expect(chineseCapitalAmount(0n)).toBe('人民币零元整');
    expect(chineseCapitalAmount(100005n)).toBe('人民币壹仟元零伍分');
    expect(chineseCapitalAmount(10000000050n)).toBe('人民币壹亿元零伍角');
    expect(chineseCapitalAmount(10050000n)).toBe('人民币壹拾万零伍佰元整');
    expect(chineseCapitalAmount(120030000n)).toBe('人民币壹佰贰拾万零叁佰元整');
    expect(chineseCapitalAmount(100010000n)).toBe('人民币壹佰万零壹佰元整');
  });
});
