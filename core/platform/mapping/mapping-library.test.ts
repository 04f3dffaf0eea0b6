import { MappingFileError } from './mapping-error.ts';
import { MappingLibrary } from './mapping-library.ts';

test('the repository mappings are found by system, entity and direction, and compiled once', async () => {
  const library = new MappingLibrary();
  const stock = library.get('kingdee', 'stock', 'inbound');
  expect(library.get('kingdee', 'stock', 'inbound')).toBe(stock);
  expect(stock.id).toBe('kingdee/stock.inbound');
  expect(stock.columns?.[0]).toBe('FMaterialId.FNumber');
  await expect(stock.map(['A-1', 'SH-01', '', 'KCZT01_SYS', 5, 0])).resolves.toMatchObject({
    skuCode: 'A-1',
    onHand: 5,
  });
});

test('a mapping that does not exist is a MappingFileError; names cannot leave the folder', () => {
  const library = new MappingLibrary();
  expect(library.has('kingdee', 'voucher', 'inbound')).toBe(false);
  expect(() => library.get('kingdee', 'voucher', 'inbound')).toThrow(MappingFileError);
  expect(() => library.get('..', 'lookups/units', 'inbound')).toThrow('no mapping can be named');
});
