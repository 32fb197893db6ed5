import path from "node:path";

// Files whose change can make checks pass without the code being right: test runners' and
// linters' configuration, build and task files, and CI definitions.
const CONFIG_PATTERNS: RegExp[] = [
  /^package\.json$/,
  /(^|\/)(Makefile|GNUmakefile|justfile|Taskfile\.ya?ml|tox\.ini|pytest\.ini|setup\.cfg|noxfile\.py|conftest\.py|\.coveragerc)$/,
  /(^|\/)(jest|vitest|vite|karma|playwright|cypress|babel|webpack|rollup)\.config\.[cm]?[jt]s$/,
  /(^|\/)\.(mocharc|nycrc|eslintrc|prettierrc|babelrc)(\.[a-z]+)?$/,
  /(^|\/)eslint\.config\.[cm]?[jt]s$/,
  /(^|\/)tsconfig(\.[\w-]+)?\.json$/,
  /^pyproject\.toml$/,
  /^\.github\/workflows\//,
  /^\.gitlab-ci\.ya?ml$/,
  /^\.circleci\//,
];

/**
 * The changed files the checks depend on: files the check command names (`sh check.sh`,
 * `./scripts/test.sh`) and test, lint, build and CI configuration. The command itself comes from
 * the routing file, never from the repository, but a check script or config in the repository is
 * the agent's to edit: a reviewer must see that it did.
 */
export function checkInputsTouched(changed: readonly string[], checkCommand: string | undefined): string[] {
  if (!checkCommand) return [];
  const named = new Set(
    checkCommand
      .split(/[\s;&|()<>"'`]+/)
      .filter((w) => /[./]/.test(w) && !w.startsWith("-") && !/^https?:/.test(w))
      .map((w) => path.posix.normalize(w.replace(/^\.\//, ""))),
  );
  return changed.filter((file) => named.has(file) || CONFIG_PATTERNS.some((re) => re.test(file)));
}
