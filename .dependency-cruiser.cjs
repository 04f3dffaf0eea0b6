/**
 * Architecture boundaries, checked by `npm run boundaries` (part of `npm test` and CI).
 *
 * The layers (see ARCHITECTURE.md):
 *   schemas/            the canonical contract; imports nothing of ours
 *   core/platform/      plumbing every module uses; no business rules, knows no domain
 *   core/<domain>/      one folder per domain; talks to other domains only through actions/events
 *   core/workflows/     cross-domain sagas (call actions, never import domain code)
 *   core/gateway/, core/cli/, core/bench/   composition: may import anything in core
 *   connectors/sdk/     the connector SDK, built on schemas/ and core/platform/
 *   connectors/<name>/  one connector: only the SDK, schemas/ and its own folder
 *
 * Paths are relative to the repository root (depcruise runs from there). Imports carry `.ts`
 * extensions (Node 24 type stripping), resolved through tsconfig.json.
 */

/** Folders of core/ that are not domains. Everything else directly under core/ is a domain. */
const CORE_NON_DOMAINS = '(?:platform|gateway|workflows|cli|bench)';

/** Files that never ship as production code paths: tests, test kits, benchmarks, build tools. */
const NOT_PRODUCTION = ['[.]test[.]ts$', '(^|/)testing/', '^core/bench/', '^schemas/tools/'];

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'connector-imports-only-sdk-and-schemas',
      severity: 'error',
      comment:
        'A connector may import only connectors/sdk/, schemas/, its own folder, node builtins and npm ' +
        'packages. Anything else it needs from the hub belongs in the SDK.',
      from: { path: '^connectors/((?!sdk/)[^/]+)/' },
      to: {
        path: '^(?:core|connectors|flows|mappings|admin-ui)/',
        pathNot: ['^connectors/sdk/', '^connectors/$1/'],
      },
    },
    {
      name: 'connector-sdk-imports-only-platform-and-schemas',
      severity: 'error',
      comment:
        'The connector SDK may build on core/platform/ and schemas/ only: never on a domain or a connector.',
      from: { path: '^connectors/sdk/' },
      to: {
        path: '^(?:core|connectors|flows|mappings|admin-ui)/',
        pathNot: ['^connectors/sdk/', '^core/platform/'],
      },
    },
    {
      name: 'no-cross-domain-imports',
      severity: 'error',
      comment:
        'A domain never imports another domain (nor the gateway, workflows, CLI or connectors): it calls ' +
        'their actions or reacts to their events. It may import core/platform/, schemas/ and its own folder.',
      from: { path: `^core/((?!${CORE_NON_DOMAINS}/)[^/]+)/`, pathNot: ['[.]test[.]ts$', '(^|/)testing/'] },
      to: {
        path: '^(?:core|connectors|flows|mappings|admin-ui)/',
        pathNot: ['^core/$1/', '^core/platform/'],
      },
    },
    {
      name: 'domain-tests-use-only-test-kits',
      severity: 'error',
      comment:
        "A domain's tests and test kit may build their world with another domain's test kit " +
        '(`core/<domain>/testing/`, which seeds through actions and HTTP), never with its code. ' +
        'Tests that compose processes or the whole hub live directly in core/.',
      from: { path: `^core/((?!${CORE_NON_DOMAINS}/)[^/]+)/.*(?:[.]test[.]ts$|/testing/)` },
      to: {
        path: '^(?:core|connectors|flows|mappings|admin-ui)/',
        pathNot: ['^core/$1/', '^core/platform/', `^core/(?!${CORE_NON_DOMAINS}/)[^/]+/testing/`],
      },
    },
    {
      name: 'platform-knows-no-domain',
      severity: 'error',
      comment:
        'core/platform/ holds no business rules: it must not import a domain, the gateway, workflows, the ' +
        'CLI, connectors or flows. Invert the dependency (the caller hands the platform what it needs). ' +
        'Exception: the test kit in core/platform/testing/ may start the whole hub for integration tests.',
      from: { path: '^core/platform/', pathNot: '^core/platform/testing/' },
      to: { path: ['^core/(?!platform/)', '^(?:connectors|flows|admin-ui)/'] },
    },
    {
      name: 'schemas-import-nothing-of-ours',
      severity: 'error',
      comment: 'schemas/ is the contract everything else depends on; it must not depend on anything of ours.',
      from: { path: '^schemas/' },
      to: { path: '^(?:core|connectors|flows|mappings|admin-ui)/' },
    },
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'Circular dependency: split the module or invert one of the dependencies.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'not-to-dev-dep',
      severity: 'error',
      comment:
        'Production code imports an npm package from devDependencies, which the image (npm ci --omit=dev) ' +
        'does not install. Move the package to dependencies, or the importing file out of production code.',
      from: { path: '^(?:core|connectors|flows|mappings|schemas)/', pathNot: NOT_PRODUCTION },
      to: {
        dependencyTypes: ['npm-dev'],
        // Type-only imports are erased by type stripping and never load at run time.
        dependencyTypesNot: ['type-only'],
        pathNot: ['node_modules/@types/'],
      },
    },
    {
      name: 'no-non-package-json',
      severity: 'error',
      comment: 'Imports an npm package that package.json does not declare: add it to dependencies.',
      from: { pathNot: NOT_PRODUCTION },
      to: { dependencyTypes: ['npm-no-pkg', 'npm-unknown'] },
    },
    {
      name: 'no-non-package-json-in-tests',
      severity: 'error',
      comment:
        'Test code imports an npm package that package.json does not declare: add it to devDependencies.',
      from: { path: NOT_PRODUCTION },
      to: { dependencyTypes: ['npm-no-pkg', 'npm-unknown'] },
    },
    {
      name: 'not-to-unresolvable',
      severity: 'error',
      comment:
        'An import that cannot be resolved to a file. Besides being a bug, it would hide the import from ' +
        'every rule above. (schemas/generated/ exists only after `npm run generate`.)',
      from: {},
      to: { couldNotResolve: true },
    },
    {
      name: 'not-to-test',
      severity: 'error',
      comment:
        'Production code and test kits never import a test file; share helpers through a testing/ folder.',
      from: { pathNot: '[.]test[.]ts$' },
      to: { path: '[.]test[.]ts$' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    // flows/nodes is a Node-RED package of its own (package.json with a node-red section): its
    // imports are checked against its package.json and the root one together.
    combinedDependencies: true,
    exclude: { path: ['^var/', '^coverage/'] },
    moduleSystems: ['es6', 'cjs'],
    // Also see imports that exist only before type stripping (`import type`), so a boundary cannot be
    // crossed with types alone; rules that care about run time exclude them by dependency type.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      extensions: ['.ts', '.js', '.mjs', '.cjs', '.json', '.d.ts'],
      mainFields: ['module', 'main', 'types', 'typings'],
    },
    skipAnalysisNotInRules: true,
  },
};
