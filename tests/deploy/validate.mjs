// Validates every object of a multi-document Kubernetes YAML stream against
// the Kubernetes schemas of the npm package kubernetes-models (and Argo
// Workflows' of @kubernetes-models/argo-workflows): each object is built as
// the model class of its apiVersion/kind and validate()d.
//
//   node validate.mjs manifests.yaml [more.yaml...]   # or - for stdin
//
// Kubeflow's PyTorchJob (kubeflow.org/v1) has no schema package on npm, so
// its pod templates are validated as core/v1 PodTemplates and the rest of
// it is checked field by field here. The schemas check types, required
// fields and enums; they do not reject unknown fields, which the end-to-end
// tests cover by asserting the fields they expect.
//
// As a module: validateManifest(text) returns the parsed objects or throws
// an Error listing every problem.

import { readFileSync } from "node:fs";
import { pathToFileURL } from "node:url";
import { parseAllDocuments } from "yaml";

// apiVersion -> the module whose exports are that group/version's kinds.
function modelModule(apiVersion) {
  if (apiVersion === "argoproj.io/v1alpha1") {
    return "@kubernetes-models/argo-workflows/argoproj.io/v1alpha1";
  }
  return `kubernetes-models/${apiVersion}`;
}

async function modelClass(apiVersion, kind) {
  let module;
  try {
    module = await import(modelModule(apiVersion));
  } catch (error) {
    throw new Error(`no schema for apiVersion ${apiVersion} (${error.code ?? error.message})`);
  }
  const Model = module[kind];
  if (typeof Model !== "function") throw new Error(`no schema for ${apiVersion} ${kind}`);
  return Model;
}

function describe(error) {
  if (Array.isArray(error.errors)) {
    return error.errors
      .map((e) => `${e.instancePath || "/"} ${e.message ?? e.keyword}`)
      .join("; ");
  }
  return error.message;
}

async function validatePodTemplate(template, where, problems) {
  const { PodTemplate } = await import("kubernetes-models/v1");
  try {
    new PodTemplate({ metadata: { name: "template" }, template }).validate();
  } catch (error) {
    problems.push(`${where}: ${describe(error)}`);
  }
}

// The PyTorchJob fields the training operator reads (kubeflow.org/v1).
async function checkPyTorchJob(object, where, problems) {
  const spec = object.spec;
  if (typeof spec !== "object" || spec === null) return problems.push(`${where}: no spec`);
  const replicaSpecs = spec.pytorchReplicaSpecs;
  if (typeof replicaSpecs !== "object" || replicaSpecs === null || !replicaSpecs.Master) {
    return problems.push(`${where}: spec.pytorchReplicaSpecs.Master is missing`);
  }
  for (const [role, replica] of Object.entries(replicaSpecs)) {
    const at = `${where} spec.pytorchReplicaSpecs.${role}`;
    if (role !== "Master" && role !== "Worker") problems.push(`${at}: unknown replica type`);
    if (!Number.isInteger(replica.replicas) || replica.replicas < 1) {
      problems.push(`${at}.replicas must be an integer >= 1`);
    }
    if (role === "Master" && replica.replicas !== 1) problems.push(`${at}.replicas must be 1`);
    if (!["Always", "OnFailure", "Never", "ExitCode"].includes(replica.restartPolicy)) {
      problems.push(`${at}.restartPolicy must be Always, OnFailure, Never or ExitCode`);
    }
    if (typeof replica.template !== "object" || replica.template === null) {
      problems.push(`${at}.template is missing`);
      continue;
    }
    await validatePodTemplate(replica.template, `${at}.template`, problems);
    const containers = replica.template.spec?.containers ?? [];
    if (!containers.some((c) => c.name === "pytorch")) {
      problems.push(`${at}: the operator needs a container named "pytorch"`);
    }
  }
  const runPolicy = spec.runPolicy ?? {};
  if (runPolicy.backoffLimit !== undefined &&
      (!Number.isInteger(runPolicy.backoffLimit) || runPolicy.backoffLimit < 0)) {
    problems.push(`${where} spec.runPolicy.backoffLimit must be an integer >= 0`);
  }
  if (runPolicy.cleanPodPolicy !== undefined &&
      !["None", "All", "Running"].includes(runPolicy.cleanPodPolicy)) {
    problems.push(`${where} spec.runPolicy.cleanPodPolicy must be None, All or Running`);
  }
}

export async function validateManifest(text, source = "manifest") {
  const problems = [];
  const objects = [];
  const documents = parseAllDocuments(text);
  documents.forEach((document, index) => {
    for (const error of document.errors) problems.push(`${source} document ${index + 1}: ${error.message}`);
    for (const warning of document.warnings) problems.push(`${source} document ${index + 1}: ${warning.message}`);
  });
  for (const [index, document] of documents.entries()) {
    const object = document.toJS();
    if (object === null || object === undefined) continue;  // an empty document
    const where = `${source} document ${index + 1} (${object?.kind}/${object?.metadata?.name ?? object?.metadata?.generateName})`;
    objects.push(object);
    if (typeof object.apiVersion !== "string" || typeof object.kind !== "string") {
      problems.push(`${where}: apiVersion and kind must be strings`);
      continue;
    }
    if (typeof object.metadata?.name !== "string" && typeof object.metadata?.generateName !== "string") {
      problems.push(`${where}: metadata.name is missing`);
    }
    if (object.apiVersion === "kubeflow.org/v1" && object.kind === "PyTorchJob") {
      await checkPyTorchJob(object, where, problems);
      continue;
    }
    try {
      const Model = await modelClass(object.apiVersion, object.kind);
      new Model(object).validate();
    } catch (error) {
      problems.push(`${where}: ${describe(error)}`);
    }
  }
  if (objects.length === 0) problems.push(`${source}: no objects`);
  if (problems.length > 0) throw new Error(problems.join("\n"));
  return objects;
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const files = process.argv.slice(2);
  if (files.length === 0) {
    console.error("usage: node validate.mjs FILE.yaml... (- for stdin)");
    process.exit(2);
  }
  let failed = false;
  for (const file of files) {
    const text = readFileSync(file === "-" ? 0 : file, "utf8");
    try {
      const objects = await validateManifest(text, file);
      console.log(`${file}: ${objects.map((o) => `${o.kind}/${o.metadata.name ?? o.metadata.generateName}`).join(", ")}: valid`);
    } catch (error) {
      console.error(error.message);
      failed = true;
    }
  }
  process.exit(failed ? 1 : 0);
}
