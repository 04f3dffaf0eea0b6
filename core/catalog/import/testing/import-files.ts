/** Test files for the import: the platform's CSV, XLSX and hand-made (hostile) ZIP builders. */
export {
  csvOf,
  writeBuffer,
  writeXlsx,
  xlsxWithSheet,
  zipOf,
} from '../../../platform/files/testing/sheet-files.ts';
