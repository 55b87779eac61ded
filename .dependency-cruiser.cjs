/**
 * Module boundaries of raftkv (docs/DESIGN.md §2, "who may import whom"), checked by
 * dependency-cruiser in `npm run lint`. ESLint (eslint.config.js) additionally guards the pure
 * core (src/raft, src/kv) against clocks, timers, randomness and async; this file owns everything
 * that needs resolved paths: which module may import which, index-only entry points, npm packages
 * and Node builtins per module, cycles.
 *
 * To add a module or loosen a boundary, change MODULES below and DESIGN.md's table together.
 */

/**
 * Where generated protobuf/gRPC code will live. Not in DESIGN.md's layout yet; change this name
 * when the code generator lands if it picks another directory.
 */
const GENERATED = 'generated';

/** Node builtins are allowed either with or without the `node:` prefix (depcruise strips it). */
const ANY = '*';

/**
 * Per src module: other src modules it may import (`modules`), modules it may import only for
 * types (`typeModules`), npm packages (`packages`) and Node builtins (`builtins`, names without
 * the `node:` prefix, subpaths included). `ANY` means unrestricted.
 *
 * DESIGN.md's table names no builtins for server, cli and operator, yet they are the processes
 * (HTTP health endpoints, hostname-derived identity, spawning local nodes), so they may use any.
 * The table also omits generated proto code for server, which hosts the etcd gRPC services.
 * kv keeps its keys in sorted-btree, a pure B+ tree (docs/decisions/0006-kv-ordered-map.md).
 * storage uses @node-rs/crc32 for CRC-32C (docs/decisions/0005-crc32c-library.md) and perf_hooks
 * to time fsyncs for its observer. cli reads a data directory offline for `raftkv wal inspect`
 * (docs/decisions/0004-storage-format.md), so it may import storage. server and operator may use
 * pino-pretty, pino's own formatter, for `--log-format=pretty` in a terminal.
 */
const MODULES = {
  common: { modules: [], packages: [], builtins: [] },
  raft: { modules: ['common'], packages: [], builtins: [] },
  kv: { modules: ['common'], packages: ['sorted-btree'], builtins: [] },
  storage: {
    modules: ['common'],
    typeModules: ['raft'],
    packages: ['@node-rs/crc32'],
    builtins: ['fs', 'path', 'perf_hooks'],
  },
  transport: {
    modules: ['common', GENERATED],
    typeModules: ['raft'],
    packages: ['@grpc/grpc-js'],
    builtins: [],
  },
  metrics: { modules: ['common'], packages: ['prom-client'], builtins: [] },
  server: {
    modules: ['raft', 'kv', 'storage', 'transport', 'metrics', 'common', GENERATED],
    packages: ['pino', 'pino-pretty', '@grpc/grpc-js'],
    builtins: ANY,
  },
  client: { modules: [GENERATED, 'common'], packages: ['@grpc/grpc-js'], builtins: [] },
  cli: {
    modules: ['client', 'server', 'operator', 'storage', 'common'],
    packages: [],
    builtins: ANY,
  },
  operator: {
    modules: ['client', 'metrics', 'common'],
    packages: ['@kubernetes/client-node', 'pino', 'pino-pretty'],
    builtins: ANY,
  },
  [GENERATED]: { modules: [], packages: ANY, builtins: ANY },
};

const MODULE_NAMES = Object.keys(MODULES);
const TEST_FILE = '\\.test\\.ts$';

/** @param {string} text */
const escapeRegex = (text) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
/** @param {string[]} names */
const anyOf = (names) => `(?:${names.map(escapeRegex).join('|')})`;
/** @param {string[]} names */
const list = (names) => (names.length === 0 ? 'nothing' : names.join(', '));

/** @returns {import('dependency-cruiser').IForbiddenRuleType[]} */
function moduleRules(name) {
  const { modules, typeModules = [], packages, builtins } = MODULES[name];
  const from = { path: `^src/${escapeRegex(name)}/` };
  const fromNonTest = { ...from, pathNot: TEST_FILE };
  const rules = [
    {
      name: `${name}-imports-only-allowed-modules`,
      comment: `src/${name} may import (DESIGN.md §2): ${list([...modules, ...typeModules.map((m) => `${m} (types only)`)])}.`,
      severity: 'error',
      from,
      to: { path: '^src/', pathNot: `^src/${anyOf([name, ...modules, ...typeModules])}/` },
    },
  ];
  if (typeModules.length > 0) {
    rules.push({
      name: `${name}-imports-${typeModules.join('-')}-types-only`,
      comment: `src/${name} may import ${list(typeModules)} for types only (use \`import type\`).`,
      severity: 'error',
      from,
      to: { path: `^src/${anyOf(typeModules)}/`, dependencyTypesNot: ['type-only'] },
    });
  }
  if (packages !== ANY) {
    rules.push({
      name: `${name}-imports-only-allowed-packages`,
      comment: `src/${name} may import these npm packages: ${list(packages)} (unit tests excepted).`,
      severity: 'error',
      from: fromNonTest,
      to: {
        path: '(^|/)node_modules/',
        ...(packages.length > 0 ? { pathNot: `(^|/)node_modules/${anyOf(packages)}/` } : {}),
      },
    });
  }
  if (builtins !== ANY) {
    rules.push({
      name: `${name}-imports-only-allowed-builtins`,
      comment: `src/${name} may import these Node builtins: ${list(builtins)} (unit tests excepted).`,
      severity: 'error',
      from: fromNonTest,
      to: {
        dependencyTypes: ['core'],
        ...(builtins.length > 0 ? { pathNot: `^${anyOf(builtins)}(?:$|/)` } : {}),
      },
    });
  }
  return rules;
}

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'No cycles (DESIGN.md §2), type-only imports included.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'not-to-unresolvable',
      comment: 'Every import must resolve, otherwise no other rule can judge it.',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
    {
      name: 'no-non-package-json',
      comment: 'npm packages used must be declared in package.json.',
      severity: 'error',
      from: {},
      to: { dependencyTypes: ['npm-no-pkg', 'npm-unknown'] },
    },
    {
      name: 'src-not-to-dev-dependencies',
      comment: 'Shipped code may not import devDependencies (unit tests in src may).',
      severity: 'error',
      from: { path: '^src/', pathNot: TEST_FILE },
      to: { dependencyTypes: ['npm-dev'] },
    },
    {
      name: 'src-not-to-test-or-bench',
      comment: 'src/ never imports test/ or bench/.',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: '^(?:test|bench)/' },
    },
    {
      name: 'src-only-known-modules',
      comment: `Code in src/ lives in one of the modules of DESIGN.md §2 (${MODULE_NAMES.join(', ')}); add a new module to DESIGN.md and this file first.`,
      severity: 'error',
      from: { path: '^src/', pathNot: `^src/${anyOf(MODULE_NAMES)}/` },
      to: {},
    },
    {
      name: 'cross-module-only-via-index',
      comment:
        "Another src module is imported only through its index.ts (e.g. '../raft/index.js').",
      severity: 'error',
      from: { path: '^src/([^/]+)/' },
      // Generated code has no index.ts (buf regenerates the directory from scratch).
      to: {
        path: '^src/[^/]+/',
        pathNot: ['^src/$1/', '^src/[^/]+/index\\.ts$', `^src/${GENERATED}/`],
      },
    },
    {
      // test/ may import module internals: the simulator, scenario runner and checkers drive the
      // core's parts (PRNG, trackers) directly. Benchmarks measure the public API only.
      name: 'bench-only-via-index',
      comment: 'bench/ imports src modules only through their index.ts.',
      severity: 'error',
      from: { path: '^bench/' },
      to: { path: '^src/', pathNot: '^src/[^/]+/index\\.ts$' },
    },
    ...MODULE_NAMES.flatMap(moduleRules),
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      mainFields: ['module', 'main', 'types', 'typings'],
    },
    skipAnalysisNotInRules: true,
  },
};
