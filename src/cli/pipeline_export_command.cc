// mlforge pipeline export --argo PIPELINE.yaml [--image IMAGE] [--output FILE|-]
//   [--pvc NAME] [--tracking-uri URI] [--namespace NS] [--service-account NAME]
//
// Writes the pipeline as an Argo Workflow (deploy/argo_workflow.h) whose
// steps run the same mlforge binary in a container. Submit the result with
// `argo submit FILE` or `kubectl create -f FILE`.

#include <cstdio>

#include "cli/commands.h"
#include "core/file.h"
#include "deploy/argo_workflow.h"
#include "pipeline/spec.h"

namespace mlforge::cli {

void AddPipelineExportCommand(CLI::App& app) {
  CLI::App* group = app.get_subcommand("pipeline");
  struct Flags {
    std::string spec;
    bool argo = false;
    std::string output = "-";
    deploy::ArgoOptions options;
  };
  auto flags = std::make_shared<Flags>();
  flags->options.image = "mlforge";
  CLI::App* export_command =
      group->add_subcommand("export", "Write a pipeline as an Argo Workflow (--argo)");
  export_command->add_option("pipeline", flags->spec, "Pipeline spec (YAML)")->required();
  export_command->add_flag("--argo", flags->argo, "Argo Workflows (argoproj.io/v1alpha1 Workflow)");
  export_command
      ->add_option("--image", flags->options.image, "Container image with mlforge (Dockerfile)")
      ->capture_default_str();
  export_command->add_option("--pvc", flags->options.pvc,
                             "PersistentVolumeClaim the steps share (default: one per workflow)");
  export_command
      ->add_option("--volume-size", flags->options.volume_size, "Size of the per-workflow claim")
      ->capture_default_str();
  export_command->add_option("--tracking-uri", flags->options.tracking_uri,
                             "Tracking server the steps log to, e.g. http://mlforge-server:5000");
  export_command->add_option("--namespace", flags->options.name_space, "Namespace of the Workflow");
  export_command->add_option("--service-account", flags->options.service_account,
                             "Service account of the workflow's pods");
  export_command->add_option("--cpu", flags->options.cpu, "CPU request per step")
      ->capture_default_str();
  export_command->add_option("--memory", flags->options.memory, "Memory request per step")
      ->capture_default_str();
  export_command->add_option("--output,-o", flags->output, "File to write, or - for stdout")
      ->capture_default_str();
  export_command->callback([flags] {
    if (!flags->argo) {
      throw CLI::RuntimeError(
          Fail("say which format to export: --argo (the only one so far, Argo Workflows)"));
    }
    auto spec = pipeline::LoadPipeline(flags->spec);
    if (!spec.ok()) throw CLI::RuntimeError(Fail(spec.status().message()));
    auto documents = deploy::RenderArgoWorkflow(*spec, flags->options);
    if (!documents.ok()) throw CLI::RuntimeError(Fail(documents.status().message()));
    const std::string yaml = deploy::ToYaml(*documents);
    if (flags->output.empty() || flags->output == "-") {
      std::fwrite(yaml.data(), 1, yaml.size(), stdout);
      std::fflush(stdout);
      return;
    }
    if (auto status = core::WriteFileAtomic(flags->output, yaml); !status.ok()) {
      throw CLI::RuntimeError(Fail(status.message()));
    }
    std::fprintf(stderr, "wrote the Argo Workflow to %s; submit with: argo submit %s\n",
                 flags->output.c_str(), flags->output.c_str());
  });
}

}  // namespace mlforge::cli
