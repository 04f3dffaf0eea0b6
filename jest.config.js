/** Jest runs the TypeScript sources as native ES modules through @swc/jest (no type-check: that is tsc's job). */
export default {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  transform: {
    '^.+\\.ts$': [
      '@swc/jest',
      { jsc: { parser: { syntax: 'typescript' }, target: 'es2023' }, module: { type: 'es6' } },
    ],
  },
  roots: [
    '<rootDir>/core',
    '<rootDir>/connectors',
    '<rootDir>/flows',
    '<rootDir>/mappings',
    '<rootDir>/schemas',
  ],
  testMatch: ['**/*.test.ts'],
  testTimeout: 30000,
  maxWorkers: 2,
};
