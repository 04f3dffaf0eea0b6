import {
  contentWidth,
  createPdfDocument,
  drawTable,
  INK,
  pdfBytes,
} from '../platform/documents/pdf-document.ts';
import type { PdfFont } from '../platform/documents/pdf-font.ts';
import type { RenderedBlock } from './template-language.ts';

/** One line of the order or quote the contract covers, as printed (amounts already formatted). */
export interface ContractLine {
  skuCode: string;
  description: string;
  quantity: number;
  unit: string;
  unitPrice: string;
  amount: string;
}

/**
 * The contract as a PDF: its number and title, the rendered template text, the lines table where
 * the template places it, and the signature blocks of both parties (the provider adds the buyer's
 * signature to this file).
 */
export async function renderContractPdf(
  contract: { number: string; title: string; buyerName: string; sellerName: string; createdAt: Date },
  blocks: RenderedBlock[],
  lines: ContractLine[],
  font: PdfFont,
): Promise<Buffer> {
  const doc = createPdfDocument({
    font,
    title: `${contract.title} ${contract.number}`,
    creator: 'B2B Hub contracts',
    createdAt: contract.createdAt,
  });
  const left = doc.page.margins.left;
  const width = contentWidth(doc);
  doc
    .fontSize(17)
    .fillColor(INK.text)
    .text(contract.title, left, doc.page.margins.top, { width, align: 'center' });
  doc.moveDown(0.3);
  doc.fontSize(9).fillColor(INK.muted).text(`合同编号 No. ${contract.number}`, { width, align: 'right' });
  doc.moveDown(0.8);
  for (const block of blocks) {
    if (block.kind === 'lines') {
      drawTable(
        doc,
        [
          { header: '#', width: 22 },
          { header: '编码 SKU', width: 76 },
          { header: '品名 Item', width: 0 },
          { header: '数量 Qty', width: 48, align: 'right' },
          { header: '单位 Unit', width: 40 },
          { header: '单价 Unit price', width: 80, align: 'right' },
          { header: '金额 Amount', width: 86, align: 'right' },
        ],
        lines.map((line, i) => [
          String(i + 1),
          line.skuCode,
          line.description,
          String(line.quantity),
          line.unit,
          line.unitPrice,
          line.amount,
        ]),
      );
      continue;
    }
    doc.fontSize(10.5).fillColor(INK.text).text(block.text, left, doc.y, { width, lineGap: 3 });
    doc.moveDown(0.5);
  }
  if (doc.y + 110 > doc.page.height - doc.page.margins.bottom) doc.addPage();
  doc.moveDown(1.5);
  const y = doc.y;
  const half = width / 2;
  doc.fontSize(10.5).fillColor(INK.text);
  doc.text(`买方（盖章）Buyer：${contract.buyerName}`, left, y, { width: half - 10 });
  doc.text(`卖方（盖章）Seller：${contract.sellerName}`, left + half, y, { width: half - 10 });
  const signY = Math.max(doc.y, y + 30) + 24;
  doc.text('签字 Signature：________________', left, signY, { width: half - 10 });
  doc.text('签字 Signature：________________', left + half, signY, { width: half - 10 });
  return pdfBytes(doc);
}
