import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { createServer } from "node:net";

/** A throwaway redis-server on its own port, which a test may stop and start again. */
export interface OwnRedis {
  port: number;
  url: string;
  start(): Promise<void>;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  const srv = createServer();
  srv.listen(0, "127.0.0.1");
  await once(srv, "listening");
  const { port } = srv.address() as { port: number };
  srv.close();
  await once(srv, "close");
  return port;
}

/** Starts redis-server (from PATH) on a free loopback port with persistence off. */
export async function startOwnRedis(opts: { maxmemoryPolicy?: string; persistDir?: string } = {}): Promise<OwnRedis> {
  const port = await freePort();
  let child: ChildProcess | undefined;
  const own: OwnRedis = {
    port,
    url: `redis://127.0.0.1:${port}`,
    async start() {
      child = spawn(
        "redis-server",
        [
          "--port",
          String(port),
          "--bind",
          "127.0.0.1",
          "--save",
          "",
          "--appendonly",
          opts.persistDir ? "yes" : "no",
          ...(opts.persistDir ? ["--dir", opts.persistDir, "--appendfsync", "always"] : []),
          "--maxmemory-policy",
          opts.maxmemoryPolicy ?? "noeviction",
        ],
        { stdio: ["ignore", "pipe", "inherit"] },
      );
      let out = "";
      await new Promise<void>((resolve, reject) => {
        child?.stdout?.on("data", (d: Buffer) => {
          out += d.toString();
          if (out.includes("Ready to accept connections")) resolve();
        });
        child?.once("exit", (code) =>
          reject(new Error(`redis-server exited with ${code}: ${out.slice(-500)}`)),
        );
      });
    },
    async stop() {
      if (!child || child.exitCode !== null) return;
      const exited = once(child, "exit");
      child.kill("SIGKILL");
      await exited;
    },
  };
  await own.start();
  return own;
}
