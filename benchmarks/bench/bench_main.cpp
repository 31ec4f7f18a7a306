// SPDX-License-Identifier: MIT
// mpstate-bench: throughput and latency of mpstate's operations, each printed
// beside the same loop over a plain boost::interprocess segment (the baseline).
#include <sys/utsname.h>
#include <unistd.h>

#include <boost/program_options.hpp>
#include <cstdlib>
#include <iomanip>
#include <iostream>
#include <optional>

#include "baseline_workloads.hpp"
#include "churn_report.hpp"
#include "memory_report.hpp"
#include "mpstate/core/auth.hpp"
#include "mpstate/core/layout.hpp"
#include "mpstate/core/names.hpp"
#include "mpstate/core/process_identity.hpp"
#include "mpstate/json.hpp"
#include "mpstate/mpstate.hpp"
#include "mpstate/version.hpp"
#include "mpstate_workloads.hpp"

namespace po = boost::program_options;
using namespace mpstate::bench;

namespace {

std::uint64_t segment_size_for(const bench_options& o) {
  std::uint64_t per_var = mpstate::core::record_footprint(o.value_size <= 8 ? 0 : o.value_size, 2, 64) + 64;
  std::uint64_t slots_needed = std::bit_ceil(o.variables * 4 / 3 + 64);
  return std::max<std::uint64_t>({64ull << 20, slots_needed * 512, o.variables * per_var * 5 / 4 + (16 << 20)});
}

void print_table(const std::vector<run_result>& results) {
  std::cout << std::left << std::setw(9) << "system" << std::setw(12) << "variant" << std::setw(15) << "op"
            << std::setw(6) << "procs" << std::right << std::setw(14) << "ops/s" << std::setw(11) << "p50 ns"
            << std::setw(11) << "p99 ns" << std::setw(11) << "p99.9 ns" << std::setw(9) << "ratio"
            << "  check\n";
  const run_result* base = nullptr;
  for (const auto& r : results) {
    if (r.system == "baseline" && !base) base = &r;
  }
  for (const auto& r : results) {
    std::string ratio = "";
    if (r.system == "mpstate" && base) {
      // Time per op relative to the baseline (>1: slower). For wait, the p50 latency.
      double x = r.op == "wait" ? r.p50_ns / base->p50_ns : base->ops_per_s / r.ops_per_s;
      std::ostringstream s;
      s << std::fixed << std::setprecision(2) << x << "x";
      ratio = s.str();
    }
    std::cout << std::left << std::setw(9) << r.system << std::setw(12) << r.variant << std::setw(15) << r.op
              << std::setw(6) << r.procs << std::right << std::fixed << std::setprecision(0) << std::setw(14)
              << r.ops_per_s << std::setprecision(1) << std::setw(11) << r.p50_ns << std::setw(11) << r.p99_ns
              << std::setw(11) << r.p999_ns << std::setw(9) << ratio << "  " << r.check << "\n";
  }
}

}  // namespace

namespace {
// A file only this user may read, removed with the object (the tcp runs' key).
struct private_file {
  explicit private_file(const std::string& content) {
    const int fd = ::mkstemp(path.data());  // mode 0600
    const bool written = fd >= 0 && ::write(fd, content.data(), content.size()) == static_cast<ssize_t>(content.size());
    if (fd >= 0) ::close(fd);
    if (!written) throw std::runtime_error("cannot write a key file in /tmp");
  }
  private_file(const private_file&) = delete;
  private_file& operator=(const private_file&) = delete;
  ~private_file() { ::unlink(path.c_str()); }
  std::string path = "/tmp/mpstate-bench-key.XXXXXX";
};
// A certificate for 127.0.0.1 that openssl makes, removed with the object.
struct tls_certificate {
  tls_certificate() {
    if (!::mkdtemp(dir.data())) throw std::runtime_error("cannot make a directory in /tmp");
    cert = dir + "/cert.pem";
    key = dir + "/key.pem";
    const std::string cmd =
        "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 "
        "-subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 -keyout " +
        key + " -out " + cert + " >/dev/null 2>&1";
    if (std::system(cmd.c_str()) != 0) throw std::runtime_error("openssl could not make a certificate");
  }
  tls_certificate(const tls_certificate&) = delete;
  tls_certificate& operator=(const tls_certificate&) = delete;
  ~tls_certificate() {
    ::unlink(cert.c_str());
    ::unlink(key.c_str());
    ::rmdir(dir.c_str());
  }
  std::string dir = "/tmp/mpstate-bench-tls.XXXXXX", cert, key;
};
}  // namespace

int main(int argc, char** argv) {
  bench_options o;
  po::options_description desc("mpstate-bench --op OP [options]");
  desc.add_options()("help,h", "show this help")("version", "print the version and exit")(
      "op", po::value(&o.op),
      "get set add cas update fenced-set fenced-add lock sync-lock wait lookup dict-get dict-lookup "
      "json-dict-get queue memory churn (default get); fenced-set/-add: set/add given a held lock's "
      "fence; lock: a record's robust mutex; sync-lock: an mpstate::Lock "
      "acquire+release; dict-get: Dict::get of a bound key; dict-lookup: a name lookup per "
      "get; json-dict-get: one json value holding every key; queue: Queue put+get")(
      "procs", po::value(&o.procs), "worker processes, started together (default 1)")(
      "seconds", po::value(&o.seconds), "timed seconds per run (default 1)")(
      "value-size", po::value(&o.value_size), "8: int64; more: a string of that many bytes")(
      "variables", po::value(&o.variables), "variables the workers spread over (default 1)")(
      "transport", po::value(&o.transport),
      "local | socket | tcp (loopback, with a key) | tls (the same in TLS, "
      "with a certificate openssl makes) | redis (the Redis backend, --redis URL; "
      "default local)")("pipeline", po::value(&o.pipeline), "socket requests in flight per worker (default 1)")(
      "busy-poll", po::value(&o.busy_poll_us), "start the embedded manager with --busy-poll USEC (default 0)")(
      "local-writer", po::bool_switch(&o.local_writer),
      "wait: the writer (rank 0) writes through shared memory; the waiters wait over --transport")(
      "redis", po::value(&o.redis), "--transport redis: the Client's Redis URL (redis+unix:///PATH?prefix=P)")(
      "system", po::value(&o.system), "mpstate | baseline | both (default both)")(
      "manager", po::value(&o.manager), "use this running manager instead of an embedded one")(
      "cycles", po::value(&o.cycles), "churn: create+delete cycles of new names (default 1,000,000)")(
      "json", po::bool_switch(&o.json), "print one JSON object");
  try {
    po::variables_map vm;
    po::store(po::parse_command_line(argc, argv, desc), vm);
    if (vm.count("help")) {
      std::cout << desc << "\n";
      return 0;
    }
    if (vm.count("version")) {
      std::cout << "mpstate-bench " << mpstate::version << "\n";
      return 0;
    }
    po::notify(vm);
    if (o.variables < 1 || o.pipeline < 1 || o.seconds <= 0) throw std::runtime_error("bad option value");
    if (o.op == "memory") {
      std::cout << measure_memory().dump(o.json ? -1 : 2) << "\n";
      return 0;
    }
    if (o.op == "churn") {
      std::cout << measure_churn(o.cycles).dump(o.json ? -1 : 2) << "\n";
      return 0;
    }
    std::vector<run_result> results;
    if (o.system == "mpstate" || o.system == "both") {
      std::optional<mpstate::Manager> embedded;
      std::optional<private_file> key_file;
      std::optional<tls_certificate> tls_files;
      mpstate_target target;
      if (o.transport == "redis") {  // the Redis backend: no manager at all
        if (o.redis.empty()) throw std::runtime_error("--transport redis needs --redis URL");
        target.socket_path = o.redis;
      } else if (o.manager.empty()) {
        mpstate::ManagerOptions mo;
        mo.size = segment_size_for(o);
        if (o.transport == "tcp" || o.transport == "tls") {
          target.key = mpstate::core::new_challenge();  // 32 random bytes, as base64
          key_file.emplace(target.key);
          mo.extra_args = {"--listen", "127.0.0.1:0", "--key-file", key_file->path};
        }
        if (o.busy_poll_us > 0)
          mo.extra_args.insert(mo.extra_args.end(), {"--busy-poll", std::to_string(o.busy_poll_us)});
        if (o.transport == "tls") {
          tls_files.emplace();
          mo.extra_args.insert(mo.extra_args.end(), {"--tls-cert", tls_files->cert, "--tls-key", tls_files->key});
          ::setenv("MPSTATE_TLS_CA", tls_files->cert.c_str(), 1);  // the workers trust it
        }
        embedded.emplace(mpstate::Manager::start(mo));
        target.manager_name = embedded->name();
        target.socket_path = embedded->socket_path();
        if (o.transport == "tcp" || o.transport == "tls") {
          auto stat = embedded->connect().request({{"op", "stat"}});
          target.socket_path = o.transport + "://" + stat.at("listening").at(0).get<std::string>();
        }
      } else {
        target.manager_name = o.manager;
        target.socket_path = mpstate::core::default_socket_path(o.manager);
      }
      create_variables(o, target);
      results.emplace_back();
      const auto manager_cpu = [&] {
        return embedded ? mpstate::core::process_cpu_time(embedded->pid()) : std::chrono::milliseconds(-1);
      };
      const auto cpu_before = manager_cpu();
      run_mpstate(o, target, results.back());
      if (o.transport != "local" && o.transport != "redis" && cpu_before.count() >= 0 && results.back().ops > 0) {
        const double cpu_us = std::chrono::duration<double, std::micro>(manager_cpu() - cpu_before).count();
        results.back().server_cpu_us_per_op = cpu_us / static_cast<double>(results.back().ops);
      }
    }
    if (o.system == "baseline" || o.system == "both") {
      if (!(o.transport != "local" && o.op != "wait")) {  // a socket op has no shared-memory baseline
        for (const auto& variant : baseline_variants(o)) {
          results.emplace_back();
          run_baseline(o, variant, results.back());
        }
      }
    }
    if (o.json) {
      nlohmann::json out = {{"results", nlohmann::json::array()}};
      for (const auto& r : results) out["results"].push_back(r.to_json());
      std::cout << out.dump() << "\n";
    } else {
      print_table(results);
    }
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "mpstate-bench: " << e.what() << "\n";
    return 1;
  }
}
