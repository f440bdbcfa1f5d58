// `mlforge pipeline export --argo` end to end: the real binary exports
// pipeline specs, the Workflow validates against the Argo Workflows schema
// (@kubernetes-models/argo-workflows, through validate.mjs), and the DAG,
// parameters, retries, conditions, loops, exit handler and the shipped input
// files are asserted.
//
//   node argo_export_e2e.mjs MLFORGE_BINARY REPO_ROOT OUT_DIR

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { check, mlforge, mlforgeFails, readValid, renderValid, summary } from "./helpers.mjs";
import { validateManifest } from "./validate.mjs";

const [binary, repo, out] = process.argv.slice(2);
if (!out) {
  console.error("usage: node argo_export_e2e.mjs MLFORGE_BINARY REPO_ROOT OUT_DIR");
  process.exit(2);
}
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
const named = (list, name) => {
  const found = list.find((item) => item.name === name);
  assert.ok(found, `nothing named ${name} in ${JSON.stringify(list.map((i) => i.name))}`);
  return found;
};

await check("hello.yaml exports to a valid Workflow with its DAG", async () => {
  const file = join(out, "hello.yaml");
  mlforge(binary, ["pipeline", "export", "--argo", join(repo, "examples/pipeline/hello.yaml"),
    "--image", "registry.example.com/mlforge:0.1.0", "--tracking-uri", "http://mlforge-server:5000",
    "--output", file], { cwd: repo });
  const [workflow, ...rest] = await readValid(file);
  assert.equal(rest.length, 0);
  assert.equal(workflow.apiVersion, "argoproj.io/v1alpha1");
  assert.equal(workflow.kind, "Workflow");
  assert.equal(workflow.metadata.generateName, "hello-");
  const spec = workflow.spec;
  assert.equal(spec.entrypoint, "main");
  assert.deepEqual(spec.arguments.parameters.map((p) => [p.name, p.value]),
    [["greeting", "hello"], ["repeat", "3"], ["threshold", "0.5"], ["names", '["ada","grace","linus"]']]);
  const tasks = named(spec.templates, "main").dag.tasks;
  assert.deepEqual(tasks.map((t) => t.name), ["write", "count", "greet", "report"]);
  assert.equal(named(tasks, "count").depends, "write.Succeeded");
  assert.equal(named(tasks, "greet").withParam, "{{workflow.parameters.names}}");
  const report = named(tasks, "report");
  assert.match(report.when, /jsonpath\(tasks\['count'\]\.outputs\.parameters\['score'\], '\$\.score'\)\}\} >= \{\{workflow\.parameters\.threshold\}\} &&/);
  assert.match(report.depends, /greet\.Succeeded/);
  const reportTemplate = named(spec.templates, "report");
  assert.equal(reportTemplate.retryStrategy.limit, 1);
  assert.equal(reportTemplate.retryStrategy.backoff.duration, "1s");
  assert.equal(reportTemplate.activeDeadlineSeconds, 60);
  assert.equal(spec.onExit, "on-exit");
  assert.match(named(spec.templates, "on-exit").container.args[0], /echo "pipeline hello \{\{workflow\.status\}\}"/);
  for (const template of spec.templates.filter((t) => t.container)) {
    assert.equal(template.container.image, "registry.example.com/mlforge:0.1.0");
    assert.deepEqual(template.container.command, ["/bin/sh", "-c"]);
    assert.equal(template.container.env.find((e) => e.name === "MLFLOW_TRACKING_URI").value, "http://mlforge-server:5000");
    assert.equal(template.container.volumeMounts[0].mountPath, "/mnt/mlforge");
  }
  assert.equal(spec.volumeClaimTemplates[0].metadata.name, "work");
});

// A small stand-in for Argo's controller and executor, enough to run an
// exported DAG here: tasks in dependency order, `depends` over
// Succeeded/Skipped, `when`, withItems/withParam, argument and output
// parameters (jsonpath included), raw input artifacts, {{workflow.*}},
// {{inputs.*}} and {{pod.name}}; /mnt/mlforge becomes a local folder.
function runWorkflow(workflow, root, params) {
  const volume = join(root, "volume");
  mkdirSync(join(volume, "work"), { recursive: true });
  const workflowName = "wf-test";
  const globals = { "workflow.name": workflowName, "workflow.uid": "uid-1", "workflow.status": "Succeeded" };
  for (const p of workflow.spec.arguments?.parameters ?? []) globals[`workflow.parameters.${p.name}`] = params[p.name] ?? p.value;
  const templates = Object.fromEntries(workflow.spec.templates.map((t) => [t.name, t]));
  const results = {};  // task -> { phase, outputs: {name: value or [values]} }
  const substitute = (text, scope) => text
    .replace(/\{\{=jsonpath\(tasks\['([^']+)'\]\.outputs\.parameters\['([^']+)'\], '\$\.([^']+)'\)\}\}/g,
      (_, task, name, key) => String(key.split(".").reduce((v, k) => v[k], JSON.parse(results[task].outputs[name]))))
    .replace(/\{\{tasks\.([^.}]+)\.outputs\.parameters\.([^}]+)\}\}/g, (_, task, name) => {
      const value = results[task].outputs[name];
      return Array.isArray(value) ? JSON.stringify(value) : value;
    })
    .replace(/\{\{([^{}]+)\}\}/g, (whole, name) => (name in scope ? scope[name] : name in globals ? globals[name] : whole));
  const execute = (template, inputs, podName) => {
    const scope = { "pod.name": podName };
    for (const [name, value] of Object.entries(inputs)) scope[`inputs.parameters.${name}`] = value;
    for (const artifact of template.inputs?.artifacts ?? []) {
      const path = artifact.path.replace("/mnt/mlforge", volume);
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, artifact.raw.data);
    }
    const outputsDir = join(root, "pods", podName);
    mkdirSync(outputsDir, { recursive: true });
    const script = substitute(template.container.args[0], scope)
      .split("/mnt/mlforge").join(volume).split("/tmp/mlforge-outputs").join(outputsDir);
    const result = spawnSync(template.container.command[0], [...template.container.command.slice(1), script],
      { encoding: "utf8", env: { PATH: "/usr/bin:/bin" } });
    if (result.status !== 0) throw new Error(`${template.name} failed (${result.status}): ${result.stderr}`);
    const outputs = {};
    for (const p of template.outputs?.parameters ?? []) {
      outputs[p.name] = readFileSync(p.valueFrom.path.replace("/tmp/mlforge-outputs", outputsDir), "utf8");
    }
    return { outputs, stdout: result.stdout };
  };
  const tasks = templates[workflow.spec.entrypoint].dag.tasks;
  const pending = [...tasks];
  let pods = 0;
  while (pending.length > 0) {
    const index = pending.findIndex((task) => !task.depends ||
      [...task.depends.matchAll(/([a-z0-9-]+)\.(Succeeded|Skipped)/g)].every(([, name]) => name in results));
    assert.ok(index >= 0, "the DAG has a task whose dependencies never finish");
    const [task] = pending.splice(index, 1);
    const dependsMet = !task.depends || Function(`return ${task.depends.replace(/([a-z0-9-]+)\.(Succeeded|Skipped)/g,
      (_, name, phase) => String(results[name].phase === phase))}`)();
    const when = task.when ? Function(`return (${substitute(task.when, {})})`)() : true;
    if (!dependsMet || !when) {
      results[task.name] = { phase: "Skipped", outputs: {} };
      continue;
    }
    const items = task.withItems ?? (task.withParam ? JSON.parse(substitute(task.withParam, {})) : null);
    const runOne = (item) => {
      const inputs = {};
      for (const argument of task.arguments?.parameters ?? []) {
        inputs[argument.name] = substitute(argument.value, item === undefined ? {} : { item });
      }
      pods += 1;
      return execute(templates[task.template], inputs, `${workflowName}-${task.name}-${pods}`);
    };
    if (items) {
      const runs = items.map((item) => runOne(item));
      const outputs = {};
      for (const name of Object.keys(runs[0].outputs)) outputs[name] = runs.map((r) => r.outputs[name]);
      results[task.name] = { phase: "Succeeded", outputs };
    } else {
      results[task.name] = { phase: "Succeeded", outputs: runOne().outputs };
    }
  }
  const exit = workflow.spec.onExit ? execute(templates[workflow.spec.onExit], {}, `${workflowName}-exit`) : null;
  return { results, volume: join(volume, "pipelines", workflowName), exit };
}

await check("the exported hello DAG runs its step scripts to the same results", async () => {
  const yaml = mlforge(binary, ["pipeline", "export", "--argo", join(repo, "examples/pipeline/hello.yaml")], { cwd: repo });
  const [workflow] = await validateManifest(yaml, "hello");
  const run = runWorkflow(workflow, join(out, "hello-run"), { repeat: "2" });
  assert.equal(readFileSync(join(run.volume, "write", "text"), "utf8"), "hello\nhello\n");
  assert.equal(run.results.count.phase, "Succeeded");
  assert.equal(run.results.greet.outputs.dir.length, 3, "one folder per name");
  const cards = run.results.greet.outputs.dir.map((dir) => readFileSync(join(dir.replace("/mnt/mlforge", join(out, "hello-run", "volume")), "card.txt"), "utf8"));
  assert.deepEqual(cards.sort(), ["hello, ada\n", "hello, grace\n", "hello, linus\n"]);
  assert.equal(run.results.report.phase, "Succeeded", "score 0.75 >= threshold 0.5 and 2 lines > 0");
  const summaryText = readFileSync(join(run.volume, "report", "summary"), "utf8");
  assert.ok(summaryText.startsWith("hello\nhello\n"), summaryText);
  assert.equal(JSON.parse(summaryText.split("\n")[2]).length, 3, "the join sees every item's folder");
  assert.equal(run.exit.stdout.trim(), "pipeline hello Succeeded");

  const skipped = runWorkflow(workflow, join(out, "hello-skip"), { threshold: "0.9" });
  assert.equal(skipped.results.report.phase, "Skipped", "score 0.75 < threshold 0.9");
});

await check("an mlforge step ships its input file and runs the same binary", async () => {
  const dir = join(out, "project");
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "train.yaml"), "experiment: k8s\n");
  writeFileSync(join(dir, "pipeline.yaml"), [
    "name: train_and_check",
    "params:",
    "  epochs: {type: int, default: 1}",
    "  dataset: {type: string, default: mnist}",
    "steps:",
    "  - name: fetch_data",
    "    mlforge: data get {{params.dataset}} --dir {{outputs.data}}",
    "    outputs:",
    "      data: {type: folder}",
    "  - name: train",
    "    mlforge: train train.yaml --set train.epochs={{params.epochs}} --data-dir {{steps.fetch_data.outputs.data}}",
    "    inputs: [train.yaml]",
    "    retry: {limit: 2, backoff: 10s, factor: 3}",
    "    outputs:",
    "      summary: {type: file}",
    "",
  ].join("\n"));
  const [workflow] = await renderValid(binary, ["pipeline", "export", "--argo", "pipeline.yaml",
    "--pvc", "pipeline-work", "--namespace", "ml"], "train pipeline", { cwd: dir });
  assert.equal(workflow.metadata.generateName, "train-and-check-");
  assert.equal(workflow.metadata.namespace, "ml");
  const tasks = named(workflow.spec.templates, "main").dag.tasks;
  assert.deepEqual(tasks.map((t) => t.name), ["fetch-data", "train"]);
  assert.match(named(workflow.spec.templates, "fetch-data").container.args[0],
    /mlforge data get \{\{workflow\.parameters\.dataset\}\} --dir \/mnt\/mlforge\/pipelines\/\{\{workflow\.name\}\}\/fetch_data\/data/);
  const train = named(workflow.spec.templates, "train");
  assert.match(train.container.args[0], /mlforge train train\.yaml --set train\.epochs=\{\{workflow\.parameters\.epochs\}\} --data-dir \{\{inputs\.parameters\.fetch-data--data\}\}/);
  assert.equal(named(named(tasks, "train").arguments.parameters, "fetch-data--data").value,
    "{{tasks.fetch-data.outputs.parameters.data}}");
  assert.deepEqual(train.inputs.artifacts, [{ name: "input-0", path: "/mnt/mlforge/work/train.yaml", raw: { data: "experiment: k8s\n" } }]);
  assert.deepEqual(train.retryStrategy, { limit: 2, retryPolicy: "Always", backoff: { duration: "10s", factor: 3 } });
  assert.equal(train.container.image, "mlforge", "default image: what `docker build -t mlforge .` tags");
  assert.equal(workflow.spec.volumes[0].persistentVolumeClaim.claimName, "pipeline-work");
});

await check("the main job exports: the train step opens the run that register names", async () => {
  const file = join(out, "mnist.yaml");
  mlforge(binary, ["pipeline", "export", "--argo", join(repo, "examples/mnist/pipeline.yaml"),
    "--output", file], { cwd: repo });
  const [workflow] = await readValid(file);
  const templates = workflow.spec.templates;
  const train = named(templates, "train");
  assert.ok(train.outputs.parameters.some((p) => p.name === "mlforge-run-id"));
  assert.match(train.container.args[0], /MLFLOW_RUN_ID=\$\(mlforge runs create --experiment 'mnist' --run-name 'train'/);
  assert.match(train.container.args[0], /mlforge train examples\/mnist\/train\.yaml --nproc \{\{workflow\.parameters\.workers\}\}/);
  const register = named(named(templates, "main").dag.tasks, "register");
  assert.equal(named(register.arguments.parameters, "train--mlforge-run-id").value,
    "{{tasks.train.outputs.parameters.mlforge-run-id}}");
  assert.match(register.depends, /train\.Succeeded/);
  assert.match(named(templates, "register").container.args[0],
    /models register runs:\/\{\{inputs\.parameters\.train--mlforge-run-id\}\}\/model/);
  // What the tracked step's script calls, against a real store.
  const store = `sqlite:///${join(out, "runs.db")}`;
  const id = mlforge(binary, ["runs", "create", "--experiment", "mnist", "--run-name", "train",
    "--tag", "mlforge.pipeline.step=train", "--tracking-uri", store]).trim();
  assert.match(id, /^[0-9a-f]{32}$/);
  mlforge(binary, ["runs", "end", id, "--status", "FAILED", "--tracking-uri", store]);
  const shown = mlforge(binary, ["runs", "show", id, "--tracking-uri", store]);
  assert.match(shown, /FAILED/);
  assert.match(shown, /mlforge\.pipeline\.step/);
  assert.match(mlforgeFails(binary, ["runs", "end", id, "--status", "RUNNING", "--tracking-uri", store]), /FINISHED, FAILED or KILLED/);
  assert.match(mlforgeFails(binary, ["runs", "create", "--tag", "novalue", "--tracking-uri", store]), /KEY=VALUE/);
});

await check("what cannot be exported is a clear error", async () => {
  const dir = join(out, "bad");
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "pipeline.yaml"), [
    "name: bad",
    "steps:",
    "  - name: a",
    "    run: echo hi > {{outputs.x}}",
    "    outputs:",
    "      x: {type: file}",
    "on_exit:",
    "  run: echo {{steps.a.run_id}}",
    "",
  ].join("\n"));
  let stderr = mlforgeFails(binary, ["pipeline", "export", "--argo", join(dir, "pipeline.yaml")]);
  assert.match(stderr, /pipeline.yaml:8: on_exit .*not .steps.a.run_id./);
  stderr = mlforgeFails(binary, ["pipeline", "export", join(repo, "examples/pipeline/hello.yaml")]);
  assert.match(stderr, /--argo/);
  stderr = mlforgeFails(binary, ["pipeline", "export", "--argo", join(repo, "examples/pipeline/hello.yaml"), "--image", "Bad Image"]);
  assert.match(stderr, /--image 'Bad Image'/);
});

summary();
