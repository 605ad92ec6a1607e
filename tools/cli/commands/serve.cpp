// agilenn serve: the edge server. Decodes each device's codec packet, batches requests across
// devices for the float remote predictor and answers with the remote logits (runtime/server.h).
#include <pthread.h>
#include <signal.h>

#include <cstdio>
#include <cxxopts.hpp>

#include "nn/io/error.h"
#include "runtime/model_backend.h"
#include "runtime/model_session.h"
#include "runtime/server.h"
#include "runtime/session_flags.h"
#include "tools/cli/command.h"
#include "tools/cli/common.h"

namespace agilenn::cli {
namespace {

int run(int argc, char** argv) {
  cxxopts::Options opts(argv[0], "Serve the remote predictor of an AgileNN model over TCP.");
  runtime::add_model_flags(opts);
  // clang-format off
  opts.add_options()
      ("host", "address to listen on", cxxopts::value<std::string>()->default_value("127.0.0.1"))
      ("port", "TCP port (0 = ephemeral, printed)", cxxopts::value<int>()->default_value("7000"))
      ("max-batch", "largest inference batch (1 = no batching)", cxxopts::value<size_t>()->default_value("32"))
      ("batch-window-ms", "how long the first request of a batch waits for more", cxxopts::value<double>()->default_value("2"))
      ("max-connections", "concurrent connections (more are answered 'overloaded')", cxxopts::value<size_t>()->default_value("256"))
      ("idle-timeout-ms", "close a connection with no new request for this long", cxxopts::value<double>()->default_value("30000"))
      ("read-timeout-ms", "a started frame (or a response write) must complete within this", cxxopts::value<double>()->default_value("5000"))
      ("max-packet-bytes", "largest accepted codec packet", cxxopts::value<uint32_t>()->default_value("65536"))
      ("max-inflight", "requests queued per connection before it stops being read", cxxopts::value<size_t>()->default_value("64"))
      ("threads", "inference threads of the tensor engine (0 = all cores)", cxxopts::value<int>()->default_value("0"))
      ("h,help", "show this help");
  // clang-format on
  auto r = opts.parse(argc, argv);
  if (handle_help(opts, r)) return 0;
  set_threads(r["threads"].as<int>());
  int port = r["port"].as<int>();
  if (port < 0 || port > 65535) throw error_at("--port", "must be in [0, 65535]");

  // Block the stop signals in every thread; the main thread takes them with sigwait.
  sigset_t sigs;
  sigemptyset(&sigs);
  sigaddset(&sigs, SIGINT);
  sigaddset(&sigs, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &sigs, nullptr);

  runtime::ModelSession s = runtime::open_session(runtime::session_options(r, false));
  auto backend = std::make_shared<runtime::ModelBackend>(s.model, s.tables);

  runtime::ServerOptions o;
  o.host = r["host"].as<std::string>();
  o.port = uint16_t(port);
  o.max_batch = r["max-batch"].as<size_t>();
  o.batch_window_ms = r["batch-window-ms"].as<double>();
  o.max_connections = r["max-connections"].as<size_t>();
  o.idle_timeout_ms = r["idle-timeout-ms"].as<double>();
  o.read_timeout_ms = r["read-timeout-ms"].as<double>();
  o.max_packet_bytes = r["max-packet-bytes"].as<uint32_t>();
  o.max_inflight = r["max-inflight"].as<size_t>();
  runtime::EdgeServer server(o, backend);
  uint16_t bound = server.start();
  std::printf("serve: model %s, codec tables %s (fingerprint %08x)\n", s.model->path.c_str(),
              s.tables_how.c_str(), s.tables.fingerprint());
  std::printf("serve: listening on %s:%u (max batch %zu, window %.1f ms)\n", o.host.c_str(),
              unsigned(bound), o.max_batch, o.batch_window_ms);
  std::fflush(stdout);
  int sig = 0;
  sigwait(&sigs, &sig);
  std::printf("serve: signal %d, shutting down\n", sig);
  server.stop();
  std::printf("serve: %s\n", server.stats().to_json().dump().c_str());
  return 0;
}

CommandRegistrar reg("serve", "Edge server: decode packets, batch, run the remote predictor", run);

}  // namespace
}  // namespace agilenn::cli
