/**
 * Runs a job's independent steps at once (a status write beside a read) and waits for all of
 * them, so none is left running behind a failure to change the job's state afterwards; throws the
 * first failure in argument order.
 */
export async function sideBySide<T extends readonly unknown[] | []>(steps: T): Promise<{ -readonly [K in keyof T]: Awaited<T[K]> }> {
  const settled = await Promise.allSettled(steps);
  for (const s of settled) if (s.status === "rejected") throw s.reason;
  return settled.map((s) => (s as PromiseFulfilledResult<unknown>).value) as { -readonly [K in keyof T]: Awaited<T[K]> };
}
