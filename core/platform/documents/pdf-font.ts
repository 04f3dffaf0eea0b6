import { existsSync, readFileSync } from 'node:fs';
import PDFDocument from 'pdfkit';
import { HubError } from '../errors/hub-errors.ts';

/**
 * The CJK font every PDF the hub makes is set in (catalog exports, order documents, contracts). pdfkit's built-in fonts (Helvetica & co.) have no Chinese
 * glyphs, so a real CJK font file is embedded (pdfkit embeds only the glyphs used).
 *
 * `HUB_PDF_FONT` names it: `/path/font.ttf`, or a collection and one face by PostScript name,
 * `/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc#NotoSansCJKsc-Regular`. Unset, the
 * Debian fonts below are tried in order (`.ci/run` and the Dockerfile install
 * `fonts-wqy-microhei`, 5 MB; `fonts-noto-cjk` is nicer and 90 MB).
 */
export const KNOWN_CJK_FONTS: ReadonlyArray<{ path: string; face: string }> = [
  { path: '/usr/share/fonts/truetype/wqy/wqy-microhei.ttc', face: 'WenQuanYiMicroHei' },
  { path: '/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc', face: 'NotoSansCJKsc-Regular' },
  { path: '/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc', face: 'WenQuanYiZenHei' },
];

export interface PdfFont {
  /** The file's bytes, read once per process (pdfkit parses them lazily per document). */
  data: Buffer;
  /** The face of a collection (.ttc), by PostScript name; undefined for a single-face file. */
  face: string | undefined;
  source: string;
}

/** What the client is told when a PDF cannot be made here (a 5xx names no server internals). */
export const NO_PDF_DETAIL = 'PDF documents are not available on this server (it has no CJK font)';

/**
 * No usable CJK font: a PDF route answers 503 with `detail` (a caller may say what else it
 * offers); `reason`, for the operator's log, names what to install or set.
 */
export class PdfFontUnavailable extends HubError {
  readonly reason: string;

  constructor(reason: string, detail: string = NO_PDF_DETAIL) {
    super(503, 'service-unavailable', detail);
    this.reason = `${reason}: install the Debian package fonts-wqy-microhei (or fonts-noto-cjk), or set HUB_PDF_FONT to a CJK font file (path#PostScriptName for a collection)`;
  }
}

/** Where the font is: HUB_PDF_FONT, else the first known Debian font present; undefined when none is. */
export function pdfFontLocation(
  setting: string | undefined,
  exists: (path: string) => boolean = existsSync,
): { path: string; face: string | undefined } | undefined {
  if (setting?.trim()) {
    const [path, face] = setting.trim().split('#', 2) as [string, string | undefined];
    return { path, face: face || undefined };
  }
  return KNOWN_CJK_FONTS.find((font) => exists(font.path));
}

let cached: { setting: string; font: PdfFont } | undefined;

/**
 * The font for PDFs, read and checked once per process (a face that is not in the collection, or
 * a file that is no font, is refused here with the setting named, not halfway through a
 * document). `unavailableDetail` is what the client is told when there is none.
 */
export function loadPdfFont(
  setting: string | undefined = process.env.HUB_PDF_FONT,
  options: { unavailableDetail?: string } = {},
): PdfFont {
  const key = setting ?? '';
  if (cached?.setting === key) return cached.font;
  const refuse = (reason: string) => new PdfFontUnavailable(reason, options.unavailableDetail);
  const location = pdfFontLocation(setting);
  if (!location) throw refuse('no CJK font is installed');
  if (!existsSync(location.path)) throw refuse(`HUB_PDF_FONT names ${location.path}, which does not exist`);
  const font: PdfFont = { data: readFileSync(location.path), face: location.face, source: location.path };
  try {
    // A throwaway document parses the font and lays out a CJK string: the check pdfkit would do later.
    const probe = new PDFDocument({ autoFirstPage: false });
    (font.face ? probe.font(font.data, font.face) : probe.font(font.data)).widthOfString('中文');
  } catch (error) {
    throw refuse(
      `${location.path}${location.face ? `#${location.face}` : ''} is not a usable font (${(error as Error).message})`,
    );
  }
  cached = { setting: key, font };
  return font;
}
