import { parseArgs } from "node:util";
import { ConfigError, loadConfig, type Role } from "./config.js";
import { closeOnSignals, run } from "./main.js";

const COMMANDS: Record<string, { roles: Role[]; help: string }> = {
  start: { roles: ["server", "worker"], help: "run the webhook server and the workers in one process" },
  serve: { roles: ["server"], help: "run only the webhook server" },
  worker: { roles: ["worker"], help: "run only the workers (run many, on many machines, against one Redis)" },
};

function usage(): string {
  const lines = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(8)} ${c.help}`);
  return `Usage: agent-workforce <command> [--help]\n\nCommands:\n${lines.join("\n")}\n\nConfiguration comes from environment variables; see README.md.`;
}

/** Entry point of the `agent-workforce` command. */
export async function main(argv: string[]): Promise<number> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: false,
    options: { help: { type: "boolean", short: "h" } },
  });
  const name = positionals[0] ?? "start";
  const command = COMMANDS[name];
  if (!command) {
    process.stderr.write(`Unknown command "${name}".\n\n${usage()}\n`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(`agent-workforce ${name}: ${command.help}\n\n${usage()}\n`);
    return 0;
  }
  try {
    const config = loadConfig(process.env, command.roles);
    const running = await run(config, command.roles);
    closeOnSignals(running);
    return -1;
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(
        `${err.message}\n\nSet these environment variables and start again (see README.md).\n`,
      );
      return 78;
    }
    throw err;
  }
}

const code = await main(process.argv.slice(2));
if (code >= 0) process.exit(code);
