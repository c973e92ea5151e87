// Module boundaries (issue 21), checked by `npm run lint:boundaries` inside `npm run check`. docs/architecture.md
// says why, with an example. Every rule is enforced: there is no list of known violations.

/** @type {import('dependency-cruiser').IConfiguration} */
export default {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'No import cycles, type-only imports included: a cycle makes load order and refactors fragile.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'no-foreign-repository',
      severity: 'error',
      comment:
        "A module's repository (its SQL and tables) is private: another module asks the owning module's service, " +
        'or the function moves to a shared module.',
      from: { path: '^src/modules/([^/]+)/' },
      to: { path: '^src/modules/([^/]+)/[^/]*repository\\.ts$', pathNot: '^src/modules/$1/' },
    },
    {
      name: 'no-foreign-routes',
      severity: 'error',
      comment: "A module's routes and plugins are registered by src/app.ts only; another module never imports them.",
      from: { path: '^src/modules/([^/]+)/' },
      to: { path: '^src/modules/([^/]+)/[^/]*(?:routes|plugin)\\.ts$', pathNot: '^src/modules/$1/' },
    },
    {
      name: 'no-test-code-in-src',
      severity: 'error',
      comment: 'Production code never imports test code.',
      from: { path: '^src/' },
      to: { path: '^test/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(node_modules|dist|web/dist)/' },
    // Type-only imports count: the services.ts ↔ services cycle was type-only.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
  },
};
