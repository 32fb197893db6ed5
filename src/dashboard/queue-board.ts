import { createBullBoard } from "@bull-board/api";
import { BullMQAdapter } from "@bull-board/api/bullMQAdapter";
import { FastifyAdapter } from "@bull-board/fastify";
import { Queue } from "bullmq";
import type { FastifyInstance } from "fastify";
import type { Queues } from "../../jobs/queues.js";

/** Where Bull Board answers. */
export const QUEUE_BOARD_PATH = "/admin/queues";

/**
 * Mounts Bull Board over every queue of `queues` (whatever queues exist, so a new one shows up
 * without touching this file). Call inside the dashboard's plugin so its admin guard covers it.
 */
export async function registerQueueBoard(app: FastifyInstance, queues: Queues): Promise<void> {
  const serverAdapter = new FastifyAdapter();
  serverAdapter.setBasePath(QUEUE_BOARD_PATH);
  createBullBoard({
    queues: Object.values(queues)
      .filter((q): q is Queue => q instanceof Queue)
      .map((q) => new BullMQAdapter(q)),
    serverAdapter,
    options: {
      uiConfig: { boardTitle: "agent-workforce", miscLinks: [{ text: "Dashboard", url: "/" }] },
    },
  });
  await app.register(serverAdapter.registerPlugin(), { prefix: QUEUE_BOARD_PATH });
}
