// Starts the real `rheo` binary on a free port with a fresh data directory, and stops it.
//
// The binary comes from RHEO_BIN. Its output goes to a log file next to the data directory;
// both are removed on a clean stop, and kept (path printed) when the server died on its own or
// RHEO_E2E_KEEP=1.

import { spawn } from "node:child_process";
import { createServer, connect } from "node:net";
import { mkdtempSync, openSync, closeSync, readFileSync, rmSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export function freePort() {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.unref();
    probe.on("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

function canConnect(port) {
  return new Promise((resolve) => {
    const socket = connect({ host: "127.0.0.1", port });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

function tail(path, lines = 40) {
  if (!existsSync(path)) return "(no log)";
  return readFileSync(path, "utf8").split("\n").slice(-lines).join("\n");
}

/**
 * @param {{ lifecycleMs?: number, extraArgs?: string[] }} [options]
 * @returns {Promise<{ endpoint: string, port: number, root: string, logPath: string, stop: () => Promise<void> }>}
 */
export async function startServer(options = {}) {
  const bin = process.env.RHEO_BIN;
  if (!bin) throw new Error("RHEO_BIN is not set (path to the rheo binary)");
  if (!existsSync(bin)) throw new Error(`RHEO_BIN=${bin} does not exist`);
  const lifecycleMs = String(options.lifecycleMs ?? 50);
  const root = mkdtempSync(join(tmpdir(), "rheo-e2e-js-"));
  const dataDir = join(root, "data");
  const logPath = join(root, "server.log");

  let lastError;
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const args = [
      "serve",
      "--listen", `127.0.0.1:${port}`,
      "--data-dir", dataDir,
      "--create-stream-ms", lifecycleMs,
      "--delete-stream-ms", lifecycleMs,
      "--update-stream-ms", lifecycleMs,
      ...(options.extraArgs ?? []),
    ];
    const log = openSync(logPath, "a");
    const child = spawn(bin, args, { stdio: ["ignore", log, log], env: { ...process.env, RUST_BACKTRACE: "1", NO_COLOR: "1" } });
    closeSync(log);
    let exited = null;
    child.once("exit", (code, signal) => {
      exited = { code, signal };
    });
    const killOnExit = () => child.kill("SIGKILL");
    process.once("exit", killOnExit);

    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline && exited === null) {
      if (await canConnect(port)) break;
      await sleep(50);
    }
    if (exited !== null || Date.now() >= deadline) {
      child.kill("SIGKILL");
      process.removeListener("exit", killOnExit);
      lastError = new Error(
        `rheo ${args.join(" ")} did not start (${exited ? JSON.stringify(exited) : "timeout"}); log ${logPath}:\n${tail(logPath)}`,
      );
      continue;
    }

    const stop = async () => {
      process.removeListener("exit", killOnExit);
      const diedEarly = exited !== null;
      if (!diedEarly) {
        child.kill("SIGTERM");
        const until = Date.now() + 10_000;
        while (exited === null && Date.now() < until) await sleep(25);
        if (exited === null) {
          child.kill("SIGKILL");
          while (exited === null) await sleep(25);
        }
      }
      if (diedEarly || process.env.RHEO_E2E_KEEP === "1") {
        console.error(`rheo server ${diedEarly ? "had died: " + JSON.stringify(exited) : "stopped"}; files kept in ${root}`);
      } else {
        rmSync(root, { recursive: true, force: true });
      }
    };
    return { endpoint: `http://127.0.0.1:${port}`, port, root, logPath, stop };
  }
  throw lastError;
}
