// Shared by the deploy end-to-end tests: running mlforge, reading rendered
// manifests, and the environment a pod would get from one.

import { execFileSync, spawn } from "node:child_process";
import { createServer } from "node:net";
import { readFileSync } from "node:fs";
import { validateManifest } from "./validate.mjs";

// Runs `mlforge args...`; returns stdout. Throws with stderr on failure.
export function mlforge(binary, args, options = {}) {
  return execFileSync(binary, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], ...options });
}

// Runs a command that must fail; returns its stderr.
export function mlforgeFails(binary, args) {
  try {
    execFileSync(binary, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  } catch (error) {
    return error.stderr;
  }
  throw new Error(`mlforge ${args.join(" ")} succeeded but should have failed`);
}

// Renders with `args`, validates every object, returns them.
export async function renderValid(binary, args, label, options = {}) {
  const yaml = mlforge(binary, args, options);
  return validateManifest(yaml, label);
}

export async function readValid(file) {
  return validateManifest(readFileSync(file, "utf8"), file);
}

export function find(objects, kind) {
  const found = objects.filter((object) => object.kind === kind);
  if (found.length !== 1) throw new Error(`expected one ${kind}, found ${found.length}`);
  return found[0];
}

// The environment Kubernetes gives a container: its env entries with plain
// values, plus `fields` for the valueFrom.fieldRef entries (fieldPath ->
// value). An entry whose source is not given is an error.
export function podEnvironment(container, fields = {}, secrets = {}) {
  const env = {};
  for (const entry of container.env ?? []) {
    if (entry.value !== undefined) {
      env[entry.name] = entry.value;
    } else if (entry.valueFrom?.fieldRef) {
      const path = entry.valueFrom.fieldRef.fieldPath;
      if (!(path in fields)) throw new Error(`no value for fieldRef ${path} of ${entry.name}`);
      env[entry.name] = fields[path];
    } else if (entry.valueFrom?.secretKeyRef) {
      const ref = entry.valueFrom.secretKeyRef;
      const key = `${ref.name}/${ref.key}`;
      if (!(key in secrets)) throw new Error(`no value for secret ${key} of ${entry.name}`);
      env[entry.name] = secrets[key];
    } else {
      throw new Error(`env entry ${entry.name} has no value this test understands`);
    }
  }
  return env;
}

// Kubernetes' $(VAR) expansion of command and args from the container's env.
export function expand(list, env) {
  return list.map((item) => item.replace(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g,
    (whole, name) => (name in env ? env[name] : whole)));
}

// "key: value" lines of `mlforge train --print-env`.
export function parseDescribe(text) {
  const fields = {};
  for (const line of text.trim().split("\n")) {
    const colon = line.indexOf(": ");
    if (colon > 0) fields[line.slice(0, colon)] = line.slice(colon + 2);
  }
  return fields;
}

export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

// Starts a long-running process; resolves once its stdout has a line that
// matches `ready`, rejects if it exits first.
export function startServer(command, args, env, ready) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    const onData = (chunk) => {
      output += chunk;
      if (ready.test(output)) resolve({ child, output: () => output });
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", (chunk) => { output += chunk; });
    child.once("exit", (code, signal) => reject(new Error(
      `${command} ${args.join(" ")} exited (${code ?? signal}) before it was ready:\n${output}`)));
  });
}

export function waitForExit(child) {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) {
      resolve({ code: child.exitCode, signal: child.signalCode });
      return;
    }
    child.removeAllListeners("exit");
    child.once("exit", (code, signal) => resolve({ code, signal }));
  });
}

let passed = 0;
// Runs one named check, counting it; a failure ends the script non-zero.
export async function check(name, body) {
  try {
    await body();
    passed += 1;
    console.log(`ok - ${name}`);
  } catch (error) {
    console.log(`not ok - ${name}\n${error.stack ?? error}`);
    console.log(`${passed} passed, 1 failed`);
    process.exit(1);
  }
}

export function summary() {
  console.log(`${passed} passed, 0 failed`);
}
