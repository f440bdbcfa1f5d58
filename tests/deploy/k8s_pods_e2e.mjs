// The rendered pods' commands run here, as Kubernetes would run them: the
// container's command, args and env from the manifest, with only what a
// cluster provides swapped for local stand-ins (mount paths for folders,
// rank 0's pod DNS name for 127.0.0.1, free ports, a loopback host).
//  - two Indexed Job pods train one data-parallel group to completion;
//  - the tracking server answers its probes' path;
//  - the serving Deployment's probe paths answer 200, /metrics has the
//    autoscaler's metric, and SIGTERM drains and exits 0.
//
//   node k8s_pods_e2e.mjs MLFORGE_BINARY REPO_ROOT OUT_DIR DATA_DIR MODEL_DIR

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  check, find, freePort, podEnvironment, renderValid, startServer, summary, waitForExit,
} from "./helpers.mjs";

const [binary, repo, out, dataDir, modelDir] = process.argv.slice(2);
if (!modelDir) {
  console.error("usage: node k8s_pods_e2e.mjs MLFORGE_BINARY REPO_ROOT OUT_DIR DATA_DIR MODEL_DIR");
  process.exit(2);
}
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
const image = "mlforge:test";
const indexAnnotation = "metadata.annotations['batch.kubernetes.io/job-completion-index']";

// Replaces the pod's mount paths by local folders in every string.
function localise(values, mounts) {
  return values.map((value) => {
    let local = value;
    for (const [from, to] of Object.entries(mounts)) local = local.split(from).join(to);
    return local;
  });
}

function localEnv(env, mounts) {
  return Object.fromEntries(Object.entries(env).map(([k, v]) => [k, localise([v], mounts)[0]]));
}

function run(command, args, env, logFile) {
  return new Promise((resolve) => {
    const child = spawn(command, args, { env, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (chunk) => { output += chunk; });
    child.stderr.on("data", (chunk) => { output += chunk; });
    child.on("exit", (code, signal) => {
      writeFileSync(logFile, output);
      resolve({ code, signal, output });
    });
  });
}

await check("two Indexed Job pods train one group with the rendered command and env", async () => {
  const port = await freePort();
  const objects = await renderValid(binary, ["k8s", "render", "train",
    join(repo, "examples/mnist/train.yaml"), "--workers", "2", "--image", image, "--pvc", "work",
    "--name", "mnist", "--master-port", String(port),
    "--set", "data.limit_train=2000", "--set", "data.limit_test=1000",
    "--set", "train.epochs=1", "--set", "schedule.warmup_steps=10"], "train job");
  const configMap = find(objects, "ConfigMap");
  const pod = find(objects, "Job").spec.template.spec;
  const container = pod.containers[0];
  // The ConfigMap's files, mounted where the pod mounts them.
  const configDir = join(out, "config");
  mkdirSync(configDir);
  for (const [key, text] of Object.entries(configMap.data)) writeFileSync(join(configDir, key), text);
  // The claim: the dataset the init container would fetch is already here.
  const work = join(out, "work");
  mkdirSync(work);
  symlinkSync(dataDir, join(work, "data"));
  const mounts = Object.fromEntries(container.volumeMounts.map((m) => [m.mountPath, m.name === "config" ? configDir : work]));
  assert.deepEqual(pod.initContainers[0].args, ["data", "get", "mnist", "--dir", "/mnt/mlforge/data"]);

  const ranks = ["0", "1"].map((index) => {
    const env = localEnv(podEnvironment(container, { [indexAnnotation]: index }), mounts);
    assert.equal(env.MASTER_ADDR, "mnist-0.mnist");
    env.MASTER_ADDR = "127.0.0.1";  // rank 0's pod DNS name, here
    env.PATH = "/usr/bin:/bin";
    return run(binary, localise(container.args, mounts), env, join(out, `rank${index}.log`));
  });
  const [rank0, rank1] = await Promise.all(ranks);
  assert.equal(rank0.code, 0, `rank 0 failed:\n${rank0.output}\nrank 1:\n${rank1.output}`);
  assert.equal(rank1.code, 0, `rank 1 failed:\n${rank1.output}`);
  assert.match(rank1.output, /rank 1 finished/);
  assert.match(rank0.output, /^run \S+ finished: val_accuracy/m);
  const runDir = join(work, "runs", "mnist");
  assert.ok(existsSync(join(runDir, "model", "MLmodel")), "rank 0 wrote the model package on the claim");
  const summary = JSON.parse(readFileSync(join(runDir, "summary.json"), "utf8"));
  // 2000 rows over 2 ranks, batch 64: ceil(1000 / 64) = 16 steps each.
  assert.equal(summary.global_step, 16);
  assert.ok(existsSync(join(work, "mlruns.db")), "the local store lives on the claim (MLFORGE_HOME)");
});

await check("tracking server: the rendered args serve /health", async () => {
  const port = await freePort();
  const objects = await renderValid(binary, ["k8s", "render", "server", "--image", image,
    "--insecure-no-auth", "--port", String(port)], "server");
  const container = find(objects, "Deployment").spec.template.spec.containers[0];
  const data = join(out, "server");
  const mounts = { "/mnt/mlforge": data };
  const env = { ...localEnv(podEnvironment(container), mounts), PATH: "/usr/bin:/bin" };
  const args = localise(container.args, mounts).map((a) => (a === "0.0.0.0" ? "127.0.0.1" : a));
  const server = await startServer(binary, args, env, /listening on/);
  try {
    for (const probe of [container.readinessProbe, container.livenessProbe]) {
      assert.equal(probe.httpGet.port, container.ports[0].name);
      const response = await fetch(`http://127.0.0.1:${port}${probe.httpGet.path}`);
      assert.equal(response.status, 200, probe.httpGet.path);
    }
    const created = await fetch(`http://127.0.0.1:${port}/api/2.0/mlflow/experiments/create`, {
      method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ name: "k8s" }) });
    assert.equal(created.status, 200);
  } finally {
    server.child.kill("SIGTERM");
  }
  const exit = await waitForExit(server.child);
  assert.equal(exit.code, 0, server.output());
  assert.ok(existsSync(join(data, "mlruns.db")), "SQLite store on the data volume");
});

await check("serve: probe paths answer, /metrics has the autoscaler's metric, SIGTERM drains", async () => {
  const port = await freePort();
  const objects = await renderValid(binary, ["k8s", "render", "serve", modelDir, "--image", image,
    "--port", String(port), "--max-batch", "16"], "serve");
  const deployment = find(objects, "Deployment");
  const hpa = find(objects, "HorizontalPodAutoscaler");
  const container = deployment.spec.template.spec.containers[0];
  const home = join(out, "serve-home");
  const mounts = { [container.volumeMounts[0].mountPath]: home };
  const env = { ...localEnv(podEnvironment(container), mounts), PATH: "/usr/bin:/bin" };
  const args = container.args.map((a) => (a === "0.0.0.0" ? "127.0.0.1" : a));
  const server = await startServer(binary, args, env, /listening on/);
  try {
    for (const probe of [container.startupProbe, container.readinessProbe, container.livenessProbe]) {
      const response = await fetch(`http://127.0.0.1:${port}${probe.httpGet.path}`);
      assert.equal(response.status, 200, probe.httpGet.path);
    }
    const annotations = deployment.spec.template.metadata.annotations;
    const metrics = await (await fetch(`http://127.0.0.1:${port}${annotations["prometheus.io/path"]}`)).text();
    const metricName = hpa.spec.metrics.find((m) => m.type === "Pods").pods.metric.name;
    assert.match(metrics, new RegExp(`^# TYPE ${metricName} gauge$`, "m"));
  } finally {
    server.child.kill("SIGTERM");
  }
  const exit = await waitForExit(server.child);
  assert.equal(exit.code, 0, server.output());
  assert.match(server.output(), /drained, exiting/);
});

summary();
