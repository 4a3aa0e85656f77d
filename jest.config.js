// Tests are transformed by swc without type-checking (fast); `make typecheck`
// runs `tsc --noEmit` over the same files as a separate step of `make test`.
/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>'],
  testMatch: ['**/__tests__/**/*.test.ts'],
  testPathIgnorePatterns: ['/node_modules/', '/cdktf.out/', '/.build/', '/.tools/'],
  modulePathIgnorePatterns: ['<rootDir>/cdktf.out/', '<rootDir>/.build/', '<rootDir>/.tools/'],
  transform: {
    '^.+\\.ts$': ['@swc/jest', { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' }, module: { type: 'commonjs' } }],
  },
  setupFilesAfterEnv: ['<rootDir>/__tests__/setup.ts'],
  testTimeout: 120000,
};
