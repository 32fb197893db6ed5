import { readFileSync } from "node:fs";
import path from "node:path";
import { UnrecoverableError } from "bullmq";
import { describe, expect, it } from "vitest";
import { JOB_DATA_VERSION, stampJobData, upgradeJobData } from "../../jobs/job-schema.js";
import { MalformedRecordError, NewerSchemaError, type SchemaHistory, upgradeRecord } from "../../src/tasks/schema-version.js";
import { TASK_SCHEMA_VERSION } from "../../src/tasks/task.js";
import { readTaskRecord } from "../../src/tasks/task-schema.js";

const KEY = "awf:task:e25af8de";
const fixture = JSON.parse(readFileSync(path.join(import.meta.dirname, "../fixtures/v1/task-pr-open.json"), "utf8")) as { raw: string };
/** The v1 record of the fixtures (written by d995ca9), as an object to vary. */
const v1 = (): Record<string, unknown> => JSON.parse(fixture.raw) as Record<string, unknown>;
const v2 = (patch: Record<string, unknown> = {}) => JSON.stringify({ ...v1(), schemaVersion: 2, ...patch });

describe("the migration table", () => {
  const history: SchemaHistory = {
    kind: "thing",
    current: 4,
    migrations: {
      1: (r) => ({ ...r, steps: [1] }),
      2: (r) => ({ ...r, steps: [...(r.steps as number[]), 2] }),
      3: (r) => ({ ...r, steps: [...(r.steps as number[]), 3], renamed: r.old, old: undefined }),
    },
  };

  it("runs every step from the record's version, in order, and stamps each version", () => {
    expect(upgradeRecord(history, "thing A", { old: "x" })).toEqual({ from: 1, record: { steps: [1, 2, 3], renamed: "x", old: undefined, schemaVersion: 4 } });
    expect(upgradeRecord(history, "thing B", { schemaVersion: 3, steps: [], old: "y" })).toEqual({ from: 3, record: { steps: [3], renamed: "y", old: undefined, schemaVersion: 4 } });
  });

  it("leaves a current record as it is", () => {
    const record = { schemaVersion: 4, steps: [] };
    expect(upgradeRecord(history, "thing C", record)).toEqual({ from: 4, record });
  });

  it("refuses a newer record, naming it, its version and the version it knows", () => {
    expect(() => upgradeRecord(history, "thing D", { schemaVersion: 5 })).toThrow(
      new NewerSchemaError("thing D", 5, 4),
    );
    expect(new NewerSchemaError("thing D", 5, 4).message).toMatch(/^thing D is schema version 5; this agent-workforce knows up to 4: upgrade every agent-workforce process/);
  });

  it("names a version that is not a whole number from 1 as malformed", () => {
    for (const bad of [0, -1, 1.5, "2", null]) {
      expect(() => upgradeRecord(history, "thing E", { schemaVersion: bad })).toThrow(/thing E is malformed: field "schemaVersion": expected a whole number from 1/);
    }
  });

  it("says so when the table has a gap (a bug in the release, not in the data)", () => {
    const gap: SchemaHistory = { kind: "thing", current: 3, migrations: { 1: (r) => r } };
    expect(() => upgradeRecord(gap, "thing F", {})).toThrow("thing: no migration from schema version 2 to 3");
  });
});

describe("task records", () => {
  it("reads a record written before versions (d995ca9) as version 1 and migrates it", () => {
    const { task, from } = readTaskRecord(KEY, fixture.raw);
    expect(from).toBe(1);
    expect(task).toEqual({ ...v1(), schemaVersion: TASK_SCHEMA_VERSION });
  });

  it("fills revisions on a version 1 record from before revision counts", () => {
    const { revisions: _gone, ...old } = v1();
    expect(readTaskRecord(KEY, JSON.stringify(old)).task.revisions).toBe(0);
  });

  it("reads a current record unchanged, keeping fields it does not know", () => {
    const { task, from } = readTaskRecord(KEY, v2({ aFieldFromLater: { x: 1 } }));
    expect(from).toBe(2);
    expect(task).toMatchObject({ identifier: "ENG-1", aFieldFromLater: { x: 1 } });
  });

  it("refuses a newer record, naming the task", () => {
    expect(() => readTaskRecord(KEY, v2({ schemaVersion: 3 }))).toThrow(
      `task record ENG-1 (${KEY}) is schema version 3; this agent-workforce knows up to 2: upgrade every agent-workforce process`,
    );
    expect(() => readTaskRecord(KEY, v2({ schemaVersion: 3 }))).toThrow(NewerSchemaError);
  });

  it("names the record and the field of a malformed record", () => {
    const cases: Array<[string, string]> = [
      [v2({ usage: { input: 1, output: "many", cacheWrite: 0, cacheRead: 0 } }), `task record ENG-1 (${KEY}) is malformed: field "usage.output"`],
      [v2({ state: "dreaming" }), 'field "state"'],
      [v2({ repo: { owner: "acme" } }), 'field "repo.name"'],
      [v2({ prNumber: "1" }), 'field "prNumber"'],
      [v2({ session: { organizationId: "o" } }), 'field "session.id"'],
      [v2({ identifier: undefined }), `task record ${KEY} is malformed: field "identifier"`],
      ["{not json", `task record ${KEY} is malformed: the record: not valid JSON`],
      ["[1,2]", "expected a JSON object, got an array"],
    ];
    for (const [raw, message] of cases) {
      let thrown: unknown;
      try {
        readTaskRecord(KEY, raw);
      } catch (err) {
        thrown = err;
      }
      expect(thrown, message).toBeInstanceOf(MalformedRecordError);
      expect((thrown as Error).message).toContain(message);
    }
  });
});

describe("job data", () => {
  const job = (data: unknown) => ({ id: "implement-1", queueName: "implement", data });

  it("stamps the version on what this release adds", () => {
    expect(stampJobData({ kind: "reconcile" })).toEqual({ kind: "reconcile", schemaVersion: JOB_DATA_VERSION });
  });

  it("reads job data without a version (queued before the upgrade) as version 1", () => {
    const j = job({ kind: "implement", issueId: "i" });
    upgradeJobData(j);
    expect(j.data).toEqual({ kind: "implement", issueId: "i", schemaVersion: JOB_DATA_VERSION });
  });

  it("fails data from a newer release for good, naming the job and the version", () => {
    expect(() => upgradeJobData(job({ kind: "implement", schemaVersion: 7 }))).toThrow(UnrecoverableError);
    expect(() => upgradeJobData(job({ kind: "implement", schemaVersion: 7 }))).toThrow(
      "job data of implement job implement-1 is schema version 7; this agent-workforce knows up to 2",
    );
  });

  it("fails data that is not an object for good", () => {
    expect(() => upgradeJobData(job("text"))).toThrow(UnrecoverableError);
    expect(() => upgradeJobData(job({ schemaVersion: "2" }))).toThrow(/job data of implement job implement-1 is malformed: field "schemaVersion"/);
  });
});
