import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * Reads a PDF back the way a person's tools would: its text layer through poppler's `pdftotext`
 * (layout kept) and its page count through `pdfinfo` (Debian's poppler-utils, installed by .ci/run).
 */
export async function readPdf(pdf: Buffer): Promise<{ text: string; pages: number }> {
  const dir = await mkdtemp(path.join(tmpdir(), 'hub-pdf-'));
  try {
    const file = path.join(dir, 'document.pdf');
    await writeFile(file, pdf);
    const [{ stdout: text }, { stdout: info }] = await Promise.all([
      run('pdftotext', ['-enc', 'UTF-8', '-layout', file, '-'], { maxBuffer: 64 * 1024 * 1024 }),
      run('pdfinfo', [file]),
    ]);
    const pages = Number(/^Pages:\s+(\d+)/m.exec(info)?.[1]);
    return { text, pages };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
