import { describe, expect, it } from "vitest";
import { checkInputsTouched } from "../../src/agent/check-inputs.js";

describe("checkInputsTouched", () => {
  it("names the script the check command runs and test, build and CI configuration", () => {
    const changed = ["src/greet.ts", "check.sh", "scripts/test.sh", "vitest.config.ts", ".github/workflows/ci.yml", "package.json", "docs/guide.md", "tests/unit/conftest.py"];
    expect(checkInputsTouched(changed, "sh check.sh && ./scripts/test.sh --ci")).toEqual([
      "check.sh",
      "scripts/test.sh",
      "vitest.config.ts",
      ".github/workflows/ci.yml",
      "package.json",
      "tests/unit/conftest.py",
    ]);
  });

  it("names nothing when the agent touched only code, or when no check command is configured", () => {
    expect(checkInputsTouched(["src/greet.ts", "README.md"], "npm test")).toEqual([]);
    expect(checkInputsTouched(["check.sh"], undefined)).toEqual([]);
  });
});
