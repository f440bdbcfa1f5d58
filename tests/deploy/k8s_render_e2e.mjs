// `mlforge k8s render train|serve|server` end to end: the real binary
// renders each kind, every object validates against the Kubernetes schemas
// (validate.mjs), the fields that matter are asserted, and the environment a
// rendered training pod would get goes through `mlforge train --print-env`,
// which must detect the rank and world the manifest meant.
//
//   node k8s_render_e2e.mjs MLFORGE_BINARY REPO_ROOT OUT_DIR

import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import {
  check, expand, find, mlforge, mlforgeFails, parseDescribe, podEnvironment, readValid,
  renderValid, summary,
} from "./helpers.mjs";
import { validateManifest } from "./validate.mjs";

const [binary, repo, out] = process.argv.slice(2);
if (!out) {
  console.error("usage: node k8s_render_e2e.mjs MLFORGE_BINARY REPO_ROOT OUT_DIR");
  process.exit(2);
}
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
const config = join(repo, "examples/mnist/train.yaml");
const image = "registry.example.com/mlforge:0.1.0";
const indexAnnotation = "metadata.annotations['batch.kubernetes.io/job-completion-index']";

// What `mlforge train --print-env` detects in `container` of a pod whose
// fieldRefs resolve as `fields`, with `extra` set on top (what Kubernetes or
// the operator adds, and MASTER_ADDR pointed at loopback since the pod DNS
// name does not resolve here). Runs the container's own command and args,
// with the training arguments replaced by --print-env. Returns one parsed
// description per process the command started.
function detect(container, fields, extra) {
  const env = { PATH: `${dirname(binary)}:/usr/bin:/bin`, ...podEnvironment(container, fields), ...extra };
  const command = container.command.map((part) => (part === "mlforge" && container.command.length === 1 ? binary : part));
  const args = [...command.slice(1), "train", "--print-env"];
  const output = execFileSync(command[0], args, { env, encoding: "utf8" });
  return output.split(/(?=^launcher: )/m).filter((block) => block.trim()).map(parseDescribe);
}

await check("Indexed Job: ConfigMap, headless Service and Job validate", async () => {
  const file = join(out, "train-job.yaml");
  mlforge(binary, ["k8s", "render", "train", config, "--workers", "2", "--image", image,
    "--tracking-uri", "http://mlforge-server:5000", "--name", "mnist", "--namespace", "ml",
    "--max-restarts", "1", "--output", file]);
  const objects = await readValid(file);
  assert.deepEqual(objects.map((o) => o.kind), ["ConfigMap", "Service", "Job"]);
  const [configMap, service, job] = objects;
  assert.equal(configMap.data["train.yaml"], readFileSync(config, "utf8"), "the config ships unchanged");
  assert.equal(service.spec.clusterIP, "None");
  assert.equal(service.metadata.name, "mnist");
  assert.equal(job.apiVersion, "batch/v1");
  assert.equal(job.spec.completionMode, "Indexed");
  assert.equal(job.spec.completions, 2);
  assert.equal(job.spec.parallelism, 2);
  assert.equal(job.spec.backoffLimit, 2);
  const pod = job.spec.template.spec;
  assert.equal(pod.subdomain, service.metadata.name, "pods live in the Service's subdomain");
  assert.equal(pod.restartPolicy, "Never");
  for (const [key, value] of Object.entries(service.spec.selector)) {
    assert.equal(job.spec.template.metadata.labels[key], value, `the Service selects the pods (${key})`);
  }
  const container = pod.containers[0];
  const env = Object.fromEntries(container.env.map((e) => [e.name, e]));
  assert.equal(env.MASTER_ADDR.value, "mnist-0.mnist");
  assert.equal(env.MASTER_PORT.value, "29500");
  assert.equal(env.WORLD_SIZE.value, "2");
  assert.equal(env.MLFLOW_TRACKING_URI.value, "http://mlforge-server:5000");
  assert.equal(env.JOB_COMPLETION_INDEX.valueFrom.fieldRef.fieldPath, indexAnnotation);
  assert.equal(service.spec.ports[0].port, Number(env.MASTER_PORT.value));
  assert.deepEqual(container.args.slice(0, 2), ["train", "/etc/mlforge/train.yaml"]);
  assert.equal(container.volumeMounts[0].mountPath, "/etc/mlforge");
  assert.deepEqual(pod.initContainers[0].args.slice(0, 3), ["data", "get", "mnist"]);
  for (const object of objects) assert.equal(object.metadata.namespace, "ml");
});

await check("Indexed Job: each pod's environment is detected as its rank", async () => {
  const objects = await renderValid(binary, ["k8s", "render", "train", config, "--workers", "2",
    "--image", image, "--pvc", "mnist-data", "--master-port", "29411"], "train job");
  const container = find(objects, "Job").spec.template.spec.containers[0];
  for (const index of ["0", "1"]) {
    const [detected, ...more] = detect(container, { [indexAnnotation]: index }, { MASTER_ADDR: "127.0.0.1" });
    assert.equal(more.length, 0);
    assert.equal(detected.launcher, "indexed-job");
    assert.equal(detected.rank, index);
    assert.equal(detected.world_size, "2");
    assert.equal(detected.group_rank, index);
    assert.equal(detected.master, "127.0.0.1:29411 (from MASTER_ADDR)");
  }
});

await check("Indexed Job with 2 ranks per pod: the wrapper starts ranks 2i and 2i+1", async () => {
  const objects = await renderValid(binary, ["k8s", "render", "train", config, "--workers", "2",
    "--nproc-per-pod", "2", "--image", image, "--pvc", "mnist-data"], "train job x2");
  const container = find(objects, "Job").spec.template.spec.containers[0];
  assert.equal(container.command[0], "/bin/sh");
  for (const index of [0, 1]) {
    const detected = detect(container, { [indexAnnotation]: String(index) }, { MASTER_ADDR: "127.0.0.1" });
    const ranks = detected.map((d) => Number(d.rank)).sort();
    assert.deepEqual(ranks, [2 * index, 2 * index + 1]);
    for (const d of detected) {
      assert.equal(d.launcher, "torchrun");
      assert.equal(d.world_size, "4");
      assert.equal(d.local_world_size, "2");
      assert.equal(d.group_rank, String(index));
      assert.equal(Number(d.local_rank), Number(d.rank) - 2 * index);
    }
  }
});

await check("PyTorchJob: Master + Worker replicas with a pytorch container", async () => {
  const objects = await renderValid(binary, ["k8s", "render", "train", config, "--workers", "3",
    "--kind", "pytorchjob", "--image", image, "--tracking-uri", "http://mlforge-server:5000",
    "--max-restarts", "2"], "pytorchjob");
  assert.deepEqual(objects.map((o) => o.kind), ["ConfigMap", "PyTorchJob"]);
  const job = objects[1];
  assert.equal(job.apiVersion, "kubeflow.org/v1");
  assert.equal(job.spec.runPolicy.backoffLimit, 2);
  const { Master, Worker } = job.spec.pytorchReplicaSpecs;
  assert.equal(Master.replicas, 1);
  assert.equal(Worker.replicas, 2);
  assert.equal(Master.restartPolicy, "OnFailure");
  const container = Worker.template.spec.containers[0];
  assert.equal(container.name, "pytorch");
  assert.equal(container.ports[0].name, "pytorchjob-port");
  // What the training operator sets in the pod of replica `rank`.
  for (const rank of ["0", "2"]) {
    const [detected] = detect(container, {}, { MASTER_ADDR: "127.0.0.1", MASTER_PORT: "23456", WORLD_SIZE: "3", RANK: rank });
    assert.equal(detected.launcher, "torchrun");
    assert.equal(detected.rank, rank);
    assert.equal(detected.world_size, "3");
    assert.equal(detected.master, "127.0.0.1:23456 (from MASTER_ADDR)");
  }
});

await check("serve: Deployment, Service and autoscaler validate", async () => {
  const objects = await renderValid(binary, ["k8s", "render", "serve", "models:/mnist@champion",
    "--replicas", "2", "--image", image, "--tracking-uri", "http://mlforge-server:5000"], "serve");
  assert.deepEqual(objects.map((o) => o.kind), ["Deployment", "Service", "HorizontalPodAutoscaler"]);
  const [deployment, service, hpa] = objects;
  const pod = deployment.spec.template.spec;
  const container = pod.containers[0];
  assert.deepEqual(container.args.slice(0, 4), ["serve", "models:/mnist@champion", "--host", "0.0.0.0"]);
  assert.equal(container.readinessProbe.httpGet.path, "/v2/health/ready");
  assert.equal(container.livenessProbe.httpGet.path, "/v2/health/live");
  assert.deepEqual(container.lifecycle.preStop.exec.command.slice(0, 1), ["sleep"]);
  assert.ok(pod.terminationGracePeriodSeconds > Number(container.lifecycle.preStop.exec.command[1]) + 10,
    "grace covers preStop and the 10 s drain");
  assert.equal(container.env.find((e) => e.name === "MLFLOW_TRACKING_URI").value, "http://mlforge-server:5000");
  assert.ok(container.resources.requests.cpu, "CPU request, needed for a utilisation target");
  assert.equal(service.spec.ports[0].targetPort, "http");
  assert.equal(hpa.apiVersion, "autoscaling/v2");
  assert.equal(hpa.spec.scaleTargetRef.name, deployment.metadata.name);
  assert.equal(hpa.spec.minReplicas, 2);
  assert.deepEqual(hpa.spec.metrics.map((m) => m.type), ["Resource", "Pods"]);
  assert.equal(hpa.spec.metrics[1].pods.metric.name, "mlforge_serving_queue_depth");
});

await check("server: Deployment on PostgreSQL from a Secret, with the artifact volume", async () => {
  const objects = await renderValid(binary, ["k8s", "render", "server", "--image", image,
    "--postgres-uri-secret", "mlforge-postgres", "--artifacts-pvc", "mlforge-artifacts",
    "--auth-secret", "mlforge-admin"], "server");
  assert.deepEqual(objects.map((o) => o.kind), ["Deployment", "Service"]);
  const container = objects[0].spec.template.spec.containers[0];
  const env = podEnvironment(container, {}, {
    "mlforge-postgres/uri": "postgresql://u:p@db:5432/mlflow", "mlforge-admin/password": "pw" });
  const args = expand(container.args, env);
  assert.equal(args[args.indexOf("--backend-store-uri") + 1], "postgresql://u:p@db:5432/mlflow");
  assert.equal(container.readinessProbe.httpGet.path, "/health");
  assert.equal(container.livenessProbe.httpGet.path, "/health");
  assert.equal(objects[0].spec.template.spec.volumes[0].persistentVolumeClaim.claimName, "mlforge-artifacts");
  assert.ok(args.includes("--auth"));
});

await check("the schema check catches a broken manifest", async () => {
  // The rendered Job with an env value (WORLD_SIZE) unquoted, so YAML reads
  // a number: the schema must reject it, so a passing render means something.
  const yaml = mlforge(binary, ["k8s", "render", "train", config, "--workers", "2", "--image", image, "--pvc", "d"]);
  const broken = yaml.replace(/value: "2"/, "value: 2");
  assert.notEqual(broken, yaml);
  await assert.rejects(validateManifest(broken, "broken"), /must be string/);
});

await check("bad flags are clear errors", async () => {
  const cases = [
    [["train", config, "--workers", "0", "--image", image, "--pvc", "d"], "--workers is 0; it must be at least 1"],
    [["train", config, "--workers", "2", "--image", "Not An Image", "--pvc", "d"], "--image 'Not An Image' is not a container image reference"],
    [["train", config, "--workers", "2", "--image", image], "neither --tracking-uri nor --pvc"],
    [["train", config, "--workers", "2", "--image", image, "--pvc", "d", "--kind", "mpijob"], "--kind 'mpijob'"],
    [["train", join(out, "missing.yaml"), "--workers", "2", "--image", image, "--pvc", "d"], "missing.yaml"],
    [["serve", "models:/mnist@champion", "--image", image], "no --tracking-uri"],
    [["server", "--image", image], "--auth-secret NAME"],
  ];
  for (const [args, expected] of cases) {
    const stderr = mlforgeFails(binary, ["k8s", "render", ...args]);
    assert.ok(stderr.includes(expected), `${args.join(" ")}: expected "${expected}" in: ${stderr}`);
  }
});

summary();
