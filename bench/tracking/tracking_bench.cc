// bench/tracking: the tracking server under load, beside the raw SQLite limit.
//
// Starts the real `mlforge server` (a fresh SQLite store in a temporary
// folder, or --backend-store-uri), then, in one run:
//   1. log-metric: 16 keep-alive clients, each logging to its own run, for
//      --seconds: requests/s, p50 / p99 latency.
//   2. log-batch: 4 clients, 1000 metrics per call, for --seconds: metrics/s.
//   3. the raw limit: the same metric rows inserted straight into the same
//      table of a fresh SQLite database with our schema, with one prepared
//      statement in one transaction: rows/s, and log-batch as a ratio of it.
//   4. runs/search over 10,000 runs x 20 metrics (loaded through log-batch):
//      a filter on a metric and a param with order_by on a metric,
//      max_results 100, 30 queries: p50 / p99 latency.
// Before a figure counts, the answers are checked: every request 200, the
// history of one run holds exactly what was logged, and the search returns
// exactly the runs a scan of the loaded values predicts, in order.
//
// The peer, MLflow's own server (Flask + SQLAlchemy), cannot be installed on
// this machine (no PyPI); its figures measured on this kind of machine are
// printed beside ours as quoted references, not measured in this run.
//
//   build/bench/tracking/mlforge_tracking_bench [--seconds 5] [--runs 10000]
//       [--backend-store-uri postgresql://...]

#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "net/http_client.h"
#include "tracking/postgres/postgres_uri.h"

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using Json = nlohmann::json;

constexpr double kPeerLogMetricPerSecond = 170;  // MLflow server, quoted in issue 3
constexpr double kPeerLogBatchMetricsPerSecond = 9500;

[[noreturn]] void Die(const std::string& message) {
  std::fprintf(stderr, "bench: %s\n", message.c_str());
  std::exit(1);
}

struct Flags {
  std::string mlforge = "build/mlforge";
  double seconds = 5;
  int runs = 10000;
  std::string backend_store_uri;  // default: a fresh SQLite file
};

Flags ParseFlags(int argc, char** argv) {
  Flags flags;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) Die(arg + " needs a value");
      return argv[++i];
    };
    if (arg == "--mlforge")
      flags.mlforge = value();
    else if (arg == "--seconds")
      flags.seconds = std::stod(value());
    else if (arg == "--runs")
      flags.runs = std::stoi(value());
    else if (arg == "--backend-store-uri")
      flags.backend_store_uri = value();
    else
      Die("unknown flag " + arg);
  }
  return flags;
}

// The server as a child process; stopped with SIGTERM on destruction.
class Server {
 public:
  Server(const Flags& flags, const fs::path& home) {
    int out[2];
    if (pipe(out) != 0) Die("pipe");
    pid_ = fork();
    if (pid_ == 0) {
      dup2(out[1], STDOUT_FILENO);
      close(out[0]);
      std::string store = flags.backend_store_uri.empty()
                              ? "sqlite:///" + (home / "mlruns.db").string()
                              : flags.backend_store_uri;
      setenv("MLFORGE_HOME", home.c_str(), 1);
      execl(flags.mlforge.c_str(), flags.mlforge.c_str(), "-q", "server", "--port", "0",
            "--backend-store-uri", store.c_str(), "--artifacts-destination",
            (home / "artifacts").c_str(), static_cast<char*>(nullptr));
      _exit(127);
    }
    close(out[1]);
    std::string text;
    char buffer[256];
    while (text.find('\n') == std::string::npos) {
      ssize_t got = read(out[0], buffer, sizeof buffer);
      if (got <= 0) Die("the server exited before listening (is " + flags.mlforge + " built?)");
      text.append(buffer, static_cast<size_t>(got));
    }
    close(out[0]);
    size_t colon = text.find(':', text.find("http://") + 7);
    if (colon == std::string::npos) Die("unexpected server banner: " + text);
    port_ = std::atoi(text.c_str() + colon + 1);
  }
  ~Server() {
    kill(pid_, SIGTERM);
    int status = 0;
    waitpid(pid_, &status, 0);
  }
  int port() const { return port_; }

 private:
  pid_t pid_ = -1;
  int port_ = 0;
};

std::unique_ptr<mlforge::net::HttpClient> Connect(int port) {
  auto client = mlforge::net::HttpClient::Connect("127.0.0.1", port);
  if (!client.ok()) Die(client.status().ToString());
  return std::move(client).value();
}

Json Post(mlforge::net::HttpClient& client, const std::string& route, const Json& body) {
  auto response = client.Send("POST", "/api/2.0/mlflow/" + route, body.dump(),
                              {{"Content-Type", "application/json"}});
  if (!response.ok()) Die(route + ": " + response.status().ToString());
  if (response->status != 200)
    Die(route + " answered " + std::to_string(response->status) + ": " + response->body);
  return Json::parse(response->body);
}

std::string CreateRun(mlforge::net::HttpClient& client, const std::string& experiment) {
  Json run = Post(client, "runs/create", {{"experiment_id", experiment}, {"start_time", 1}});
  return run["run"]["info"]["run_id"];
}

double Percentile(std::vector<double> values, double fraction) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  size_t index = static_cast<size_t>(fraction * static_cast<double>(values.size() - 1));
  return values[index];
}

// 1. log-metric from 16 clients.
void LogMetricWorkload(int port, const std::string& experiment, double seconds) {
  constexpr int kClients = 16;
  std::vector<std::thread> threads;
  std::vector<std::vector<double>> latencies(kClients);
  std::vector<std::string> run_ids(kClients);
  std::vector<int64_t> sent(kClients, 0);
  {
    auto setup = Connect(port);
    for (auto& id : run_ids) id = CreateRun(*setup, experiment);
  }
  const auto deadline = Clock::now() + std::chrono::duration<double>(seconds);
  const auto start = Clock::now();
  for (int c = 0; c < kClients; ++c) {
    threads.emplace_back([&, c] {
      auto client = Connect(port);
      for (int64_t step = 0; Clock::now() < deadline; ++step) {
        Json body = {{"run_id", run_ids[c]},
                     {"key", "loss"},
                     {"value", 1.0 / (1 + step)},
                     {"timestamp", 1000 + step},
                     {"step", step}};
        auto begin = Clock::now();
        Post(*client, "runs/log-metric", body);
        latencies[c].push_back(
            std::chrono::duration<double, std::milli>(Clock::now() - begin).count());
        ++sent[c];
      }
    });
  }
  for (auto& thread : threads) thread.join();
  const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  // Check: the history of client 0's run holds every step it logged.
  auto client = Connect(port);
  auto history =
      client->Get("/api/2.0/mlflow/metrics/get-history?run_id=" + run_ids[0] + "&metric_key=loss");
  if (!history.ok() || history->status != 200) Die("get-history failed");
  size_t stored = Json::parse(history->body)["metrics"].size();
  if (stored != static_cast<size_t>(sent[0])) {
    Die("run 0 logged " + std::to_string(sent[0]) + " metrics but holds " + std::to_string(stored));
  }
  std::vector<double> all;
  int64_t total = 0;
  for (int c = 0; c < kClients; ++c) {
    all.insert(all.end(), latencies[c].begin(), latencies[c].end());
    total += sent[c];
  }
  const double rate = static_cast<double>(total) / elapsed;
  std::printf(
      "log-metric, 16 keep-alive clients: %.0f requests/s (p50 %.2f ms, p99 %.2f ms); "
      "MLflow server (quoted): %.0f requests/s; ratio %.1fx; goal 5,000 requests/s\n",
      rate, Percentile(all, 0.5), Percentile(all, 0.99), kPeerLogMetricPerSecond,
      rate / kPeerLogMetricPerSecond);
}

// The log-batch body, written straight as text: the load generator shares
// the two cores with the server, so it must cost far less than what it
// measures (building it through a JSON tree took a third of a core).
std::string MetricBatchBody(const std::string& run_id, int64_t base, int count) {
  std::string body;
  body.reserve(64 + static_cast<size_t>(count) * 64);
  body += "{\"run_id\":\"" + run_id + "\",\"metrics\":[";
  char number[32];
  for (int i = 0; i < count; ++i) {
    if (i > 0) body += ',';
    body += "{\"key\":\"m";
    body += std::to_string(i % 50);
    body += "\",\"value\":";
    int length = std::snprintf(number, sizeof number, "%.17g", 0.001 * i);
    body.append(number, static_cast<size_t>(length));
    body += ",\"timestamp\":";
    body += std::to_string(base + i);
    body += ",\"step\":";
    body += std::to_string(base + i);
    body += '}';
  }
  body += "]}";
  return body;
}

void PostText(mlforge::net::HttpClient& client, const std::string& route, std::string body) {
  auto response = client.Send("POST", "/api/2.0/mlflow/" + route, std::move(body),
                              {{"Content-Type", "application/json"}});
  if (!response.ok()) Die(route + ": " + response.status().ToString());
  if (response->status != 200)
    Die(route + " answered " + std::to_string(response->status) + ": " + response->body);
}

// 2. log-batch, 1000 metrics a call, from 4 clients. Returns metrics/s.
double LogBatchWorkload(int port, const std::string& experiment, double seconds) {
  constexpr int kClients = 4;
  constexpr int kPerBatch = 1000;
  std::vector<std::thread> threads;
  std::vector<int64_t> batches(kClients, 0);
  const auto deadline = Clock::now() + std::chrono::duration<double>(seconds);
  const auto start = Clock::now();
  for (int c = 0; c < kClients; ++c) {
    threads.emplace_back([&, c] {
      auto client = Connect(port);
      std::string run_id = CreateRun(*client, experiment);
      while (Clock::now() < deadline) {
        PostText(*client, "runs/log-batch",
                 MetricBatchBody(run_id, batches[c] * kPerBatch, kPerBatch));
        ++batches[c];
      }
    });
  }
  for (auto& thread : threads) thread.join();
  const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  int64_t total = 0;
  for (int64_t b : batches) total += b * kPerBatch;
  const double rate = static_cast<double>(total) / elapsed;
  std::printf(
      "log-batch, 1000 metrics a call, 4 clients: %.0f metrics/s; MLflow server "
      "(quoted): %.0f metrics/s; ratio %.1fx; goal 200,000 metrics/s\n",
      rate, kPeerLogBatchMetricsPerSecond, rate / kPeerLogBatchMetricsPerSecond);
  return rate;
}

void Exec(sqlite3* db, const std::string& sql) {
  char* error = nullptr;
  if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error) != SQLITE_OK) {
    std::string message = error ? error : "?";
    sqlite3_free(error);
    Die("sqlite: " + message + " in " + sql.substr(0, 120));
  }
}

// 3. The same rows straight into SQLite: the metrics table of our schema,
// one prepared statement, one transaction. Returns rows/s.
double RawSqliteLimit(const fs::path& server_db, const fs::path& raw_db, int rows) {
  sqlite3* source = nullptr;
  if (sqlite3_open_v2(server_db.c_str(), &source, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    Die("cannot open " + server_db.string());
  }
  sqlite3_stmt* schema = nullptr;
  sqlite3_prepare_v2(source, "SELECT sql FROM sqlite_master WHERE name = 'metrics'", -1, &schema,
                     nullptr);
  if (sqlite3_step(schema) != SQLITE_ROW) Die("no metrics table in " + server_db.string());
  std::string create = reinterpret_cast<const char*>(sqlite3_column_text(schema, 0));
  sqlite3_finalize(schema);
  sqlite3_close(source);

  sqlite3* db = nullptr;
  if (sqlite3_open(raw_db.c_str(), &db) != SQLITE_OK) Die("cannot create " + raw_db.string());
  Exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;");
  // The schema references runs(run_uuid); the raw limit writes metrics only.
  Exec(db, "CREATE TABLE runs (run_uuid TEXT PRIMARY KEY);");
  Exec(db, create);
  const auto start = Clock::now();
  Exec(db, "BEGIN IMMEDIATE");
  sqlite3_stmt* insert = nullptr;
  sqlite3_prepare_v2(
      db,
      "INSERT OR IGNORE INTO metrics (run_uuid, key, timestamp, step, value, is_nan) "
      "VALUES (?, ?, ?, ?, ?, 0)",
      -1, &insert, nullptr);
  const std::string run = "0123456789abcdef0123456789abcdef";
  std::vector<std::string> keys;
  for (int k = 0; k < 50; ++k) keys.push_back("m" + std::to_string(k));
  for (int i = 0; i < rows; ++i) {
    sqlite3_bind_text(insert, 1, run.c_str(), static_cast<int>(run.size()), SQLITE_STATIC);
    const std::string& key = keys[static_cast<size_t>(i % 50)];
    sqlite3_bind_text(insert, 2, key.c_str(), static_cast<int>(key.size()), SQLITE_STATIC);
    sqlite3_bind_int64(insert, 3, i);
    sqlite3_bind_int64(insert, 4, i);
    sqlite3_bind_double(insert, 5, 0.001 * i);
    if (sqlite3_step(insert) != SQLITE_DONE) Die("raw insert failed");
    sqlite3_reset(insert);
  }
  sqlite3_finalize(insert);
  Exec(db, "COMMIT");
  const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  sqlite3_close(db);
  return rows / elapsed;
}

// 4. Search over many runs.
void SearchWorkload(int port, int run_count) {
  auto client = Connect(port);
  std::string experiment =
      Post(*client, "experiments/create", {{"name", "search-bench"}})["experiment_id"];
  std::mt19937 random(7);
  std::uniform_real_distribution<double> uniform(0, 1);
  struct Expected {
    std::string run_id;
    double m1;
  };
  std::vector<Expected> expected;
  const auto load_start = Clock::now();
  for (int r = 0; r < run_count; ++r) {
    std::string run_id = CreateRun(*client, experiment);
    Json metrics = Json::array();
    double m0 = 0, m1 = 0;
    for (int k = 0; k < 20; ++k) {
      double value = uniform(random);
      if (k == 0) m0 = value;
      if (k == 1) m1 = value;
      metrics.push_back(
          {{"key", "m" + std::to_string(k)}, {"value", value}, {"timestamp", 1}, {"step", 0}});
    }
    const std::string group = r % 2 == 0 ? "even" : "odd";
    Post(*client, "runs/log-batch",
         {{"run_id", run_id},
          {"metrics", metrics},
          {"params", Json::array({{{"key", "group"}, {"value", group}}})}});
    if (m0 > 0.5 && group == "even") expected.push_back({run_id, m1});
  }
  std::printf("  (loaded %d runs x 20 metrics in %.1f s)\n", run_count,
              std::chrono::duration<double>(Clock::now() - load_start).count());
  std::sort(expected.begin(), expected.end(),
            [](const Expected& a, const Expected& b) { return a.m1 > b.m1; });
  const Json query = {{"experiment_ids", {experiment}},
                      {"filter", "metrics.m0 > 0.5 and params.group = 'even'"},
                      {"order_by", {"metrics.m1 DESC"}},
                      {"max_results", 100}};
  std::vector<double> latencies;
  for (int q = 0; q < 30; ++q) {
    auto begin = Clock::now();
    Json page = Post(*client, "runs/search", query);
    latencies.push_back(std::chrono::duration<double, std::milli>(Clock::now() - begin).count());
    const Json& runs = page["runs"];
    if (runs.size() != std::min<size_t>(100, expected.size())) Die("search returned wrong count");
    for (size_t i = 0; i < runs.size(); ++i) {
      if (runs[i]["info"]["run_id"] != expected[i].run_id)
        Die("search order differs at " + std::to_string(i));
    }
  }
  std::printf(
      "runs/search, filter + order_by over %d runs x 20 metrics: p50 %.1f ms, p99 %.1f ms "
      "(%zu matches); goal under 50 ms\n",
      run_count, Percentile(latencies, 0.5), Percentile(latencies, 0.99), expected.size());
}

}  // namespace

int main(int argc, char** argv) {
  Flags flags = ParseFlags(argc, argv);
  fs::path home =
      fs::temp_directory_path() / ("mlforge-tracking-bench-" + std::to_string(getpid()));
  fs::create_directories(home);
  {
    Server server(flags, home);
    std::printf("mlforge server on 127.0.0.1:%d, store %s\n", server.port(),
                flags.backend_store_uri.empty()
                    ? (home / "mlruns.db").c_str()
                    : mlforge::tracking::postgres::RedactPassword(flags.backend_store_uri).c_str());
    auto client = Connect(server.port());
    std::string experiment =
        Post(*client, "experiments/create", {{"name", "load-bench"}})["experiment_id"];
    LogMetricWorkload(server.port(), experiment, flags.seconds);
    double batch_rate = LogBatchWorkload(server.port(), experiment, flags.seconds);
    if (flags.backend_store_uri.empty()) {
      double raw = RawSqliteLimit(home / "mlruns.db", home / "raw.db", 1'000'000);
      std::printf(
          "raw SQLite limit (prepared INSERTs in one transaction): %.0f rows/s; "
          "log-batch is %.0f%% of it\n",
          raw, 100 * batch_rate / raw);
    }
    SearchWorkload(server.port(), flags.runs);
  }
  fs::remove_all(home);
  return 0;
}
