import { parseArgs } from "node:util";
import { doctor } from "./cli/doctor.js";
import { status } from "./cli/status.js";
import { type Config, ConfigError, configFromEnvironment, type Role } from "./config.js";
import { closeOnSignals, run } from "./main.js";

interface Command {
  help: string;
  usage: string;
  run(): Promise<number>;
}

const out = (line: string) => process.stdout.write(`${line}\n`);

function hasAnySecret(c: Config): boolean {
  return Boolean(c.github.webhookSecret || c.linear.webhookSecret || c.github.token || c.github.app || c.linear.apiKey || c.anthropic.apiKey);
}

async function service(roles: Role[]): Promise<number> {
  const running = await run(configFromEnvironment(roles), roles);
  closeOnSignals(running);
  return -1;
}

async function demo(base: Config): Promise<number> {
  // Loaded on demand: the demo brings its own stand-ins, which the production image leaves out.
  const modulePath = "./demo/run-demo.js";
  let mod: { runDemo(p: { base: Config; say: (line: string) => void }): Promise<{ close(): Promise<void> }> };
  try {
    mod = await import(modulePath);
  } catch (err) {
    out(`The offline demo is not part of this build (${(err as Error).message}). Set the credentials in README.md to run the service.`);
    return 1;
  }
  const d = await mod.runDemo({ base, say: out });
  let stopping = false;
  const stop = () => {
    if (stopping) process.exit(1);
    stopping = true;
    d.close().then(() => process.exit(0), () => process.exit(1));
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
  return -1;
}

const COMMANDS: Record<string, Command> = {
  start: {
    help: "run the webhook server and the workers in one process; with no credentials set, run the offline demo",
    usage: "agent-workforce start",
    async run() {
      const base = configFromEnvironment();
      if (!hasAnySecret(base)) {
        out("No credentials are set, so this is the offline demo. Set the variables in README.md to run the real service.\n");
        return demo(base);
      }
      return service(["server", "worker"]);
    },
  },
  serve: { help: "run only the webhook server (and dashboard)", usage: "agent-workforce serve", run: () => service(["server"]) },
  worker: {
    help: "run only the workers; run many, on many machines, against one Redis",
    usage: "agent-workforce worker",
    run: () => service(["worker"]),
  },
  doctor: {
    help: "check every setting and connection (Redis and its eviction policy, GitHub, Linear, Anthropic, webhook secrets) and say what to fix",
    usage: "agent-workforce doctor",
    run: () => doctor(configFromEnvironment, out),
  },
  status: {
    help: "print the dashboard's task table in the terminal",
    usage: "agent-workforce status [--limit N]",
    async run() {
      const { values } = parseArgs({ args: process.argv.slice(3), options: { limit: { type: "string" } }, strict: false });
      return status(configFromEnvironment(), out, { limit: values.limit ? Number(values.limit) : undefined });
    },
  },
  demo: {
    help: "play the whole story offline (issue labelled → PR → review → revision → merged) with local stand-ins; needs only Redis",
    usage: "agent-workforce demo",
    run: () => demo(configFromEnvironment()),
  },
};

function usage(): string {
  const lines = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(8)} ${c.help}`);
  return `Usage: agent-workforce <command> [--help]\n\nCommands:\n${lines.join("\n")}\n\nConfiguration comes from environment variables; see README.md.`;
}

/** Entry point of the `agent-workforce` command; returns an exit code, or -1 while a service runs. */
export async function main(argv: string[]): Promise<number> {
  const { positionals, values } = parseArgs({ args: argv, allowPositionals: true, strict: false, options: { help: { type: "boolean", short: "h" } } });
  const name = positionals[0] ?? "start";
  if (name === "help") {
    out(usage());
    return 0;
  }
  const command = COMMANDS[name];
  if (!command) {
    process.stderr.write(`Unknown command "${name}".\n\n${usage()}\n`);
    return 2;
  }
  if (values.help) {
    out(`Usage: ${command.usage}\n\n${command.help}.\n\nConfiguration comes from environment variables; see README.md.`);
    return 0;
  }
  try {
    return await command.run();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n\nSet these environment variables and start again (see README.md).\n`);
      return 78;
    }
    process.stderr.write(`agent-workforce ${name}: ${(err as Error).message}\n`);
    return 1;
  }
}

const code = await main(process.argv.slice(2));
if (code >= 0) process.exit(code);
