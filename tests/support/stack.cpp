#include "support/stack.hpp"

#include <unistd.h>
#include <algorithm>
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace etcdmesos::testing {

using namespace std::chrono_literals;

namespace {

std::optional<HttpResult> parse_http(const std::string& raw) {
  auto header_end = raw.find("\r\n\r\n");
  if (raw.compare(0, 9, "HTTP/1.1 ") != 0 || header_end == std::string::npos) {
    return std::nullopt;
  }
  HttpResult result;
  result.status = static_cast<unsigned>(std::stoi(raw.substr(9, 3)));
  result.body = raw.substr(header_end + 4);
  return result;
}

}  // namespace

std::optional<HttpResult> http_call(const std::string& method, const std::string& host,
                                    uint16_t port, const std::string& target,
                                    const std::string& body, std::chrono::milliseconds timeout,
                                    const HeaderList& headers) {
  std::ostringstream req;
  req << method << " " << target << " HTTP/1.1\r\nHost: " << host << ":" << port
      << "\r\nConnection: close\r\n";
  for (const auto& [name, value] : headers) {
    req << name << ": " << value << "\r\n";
  }
  if (!body.empty() || method == "POST") {
    req << "Content-Type: application/json\r\nContent-Length: " << body.size() << "\r\n";
  }
  req << "\r\n" << body;
  auto raw = tcp_exchange(host, port, req.str(), timeout);
  if (!raw) {
    return std::nullopt;
  }
  return parse_http(*raw);
}

std::optional<HttpResult> etcd_post(const std::string& client_url, const std::string& target,
                                    const std::string& body, std::chrono::milliseconds timeout) {
  auto rest = client_url.substr(client_url.find("//") + 2);
  auto colon = rest.rfind(':');
  if (colon == std::string::npos) {
    return std::nullopt;
  }
  return http_call("POST", rest.substr(0, colon),
                   static_cast<uint16_t>(std::stoi(rest.substr(colon + 1))), target, body, timeout);
}

std::optional<std::vector<std::string>> etcd_member_names(const std::string& client_url) {
  auto list = etcd_post(client_url, "/v3/cluster/member/list", "{}");
  if (!list || list->status != 200) {
    return std::nullopt;
  }
  boost::system::error_code ec;
  auto parsed = boost::json::parse(list->body, ec);
  if (ec || !parsed.is_object() || !parsed.as_object().contains("members")) {
    return std::nullopt;
  }
  std::vector<std::string> names;
  for (const auto& m : parsed.at("members").as_array()) {
    const auto* name = m.as_object().if_contains("name");
    names.push_back(name ? std::string(name->as_string()) : "");
  }
  return names;
}

std::optional<pid_t> etcd_pid(const std::string& client_url) {
  const std::string flag = "--listen-client-urls=" + client_url + " ";
  for (const auto& p : running_processes()) {
    if ((p.cmdline + " ").find(flag) != std::string::npos &&
        p.cmdline.find("etcd") != std::string::npos) {
      return p.pid;
    }
  }
  return std::nullopt;
}

std::string project_binary(const std::string& name) {
  return std::string(ETCDMESOS_BIN_DIR) + "/" + name;
}

LocalStack::LocalStack(StackOptions options)
    : options_(std::move(options)), dir_("etcd-mesos-stack") {
  zookeeper_ = std::make_unique<ZooKeeperServer>();
  first_agent_ip_ = network_.first_ip();
  scheduler_bin_dir_ = ETCDMESOS_BIN_DIR;
  if (options_.real_mesos) {
    RealMesosOptions real;
    real.agents = options_.agents;
    real.masters = options_.masters;
    real.master_zk_session_timeout = options_.master_zk_session_timeout;
    real.agent_registration_backoff = options_.agent_registration_backoff;
    real.zk_url = zookeeper_->url("/mesos");
    real.first_agent_ip = first_agent_ip_;
    real.dir = dir_.path() / "mesos";
    real_mesos_ = std::make_unique<RealMesos>(std::move(real));
    if (options_.scheduler_uid) {
      prepare_scheduler_user();
    }
    if (options_.start_scheduler) {
      start_scheduler();
    }
    return;
  }
  auto endpoint_file = dir_.path() / "master.endpoint";
  cluster_ = std::make_unique<ChildProcess>(
      std::vector<std::string>{project_binary("mesos-devcluster"), "--master-ip", "127.0.0.1",
                               "--port", "0", "--endpoint-file", endpoint_file.string(), "--agents",
                               std::to_string(options_.agents), "--first-agent-ip", first_agent_ip_,
                               "--zk", zookeeper_->url("/mesos"), "--work-dir",
                               (dir_.path() / "cluster").string(), "--heartbeat-interval",
                               std::to_string(options_.heartbeat_interval.count() / 1000.0),
                               "--masters", std::to_string(options_.masters)},
      dir_.path() / "cluster-log");
  bool up = wait_until(
      [&] {
        auto text = read_file(endpoint_file);
        auto colon = text.rfind(':');
        if (colon == std::string::npos)
          return false;
        master_port_ = static_cast<uint16_t>(std::stoi(text.substr(colon + 1)));
        return true;
      },
      30s);
  if (!up) {
    throw std::runtime_error("the dev cluster did not start:\n" + logs());
  }
  if (options_.scheduler_uid) {
    prepare_scheduler_user();
  }
  if (options_.start_scheduler) {
    start_scheduler();
  }
}

// The scheduler runs as another user: it must reach its own binary and the
// executor's (it reads that one to serve it to the agents) through
// directories that user may enter. The stack's directory (0700 from mkdtemp)
// becomes 0711, enterable but not listable; the copies sit in a 0755
// directory inside it. Its logs need nothing: ChildProcess opens them as root
// and hands over the descriptors.
void LocalStack::prepare_scheduler_user() {
  namespace fs = std::filesystem;
  const auto enter_only = fs::perms::owner_all | fs::perms::group_exec | fs::perms::others_exec;
  const auto readable = enter_only | fs::perms::group_read | fs::perms::others_read;
  fs::permissions(dir_.path(), enter_only);
  scheduler_bin_dir_ = dir_.path() / "scheduler-bin";
  fs::create_directory(scheduler_bin_dir_);
  fs::permissions(scheduler_bin_dir_, readable);
  for (const char* name : {"etcd-mesos-scheduler", "etcd-mesos-executor"}) {
    const auto copy = scheduler_bin_dir_ / name;
    fs::copy_file(project_binary(name), copy, fs::copy_options::overwrite_existing);
    fs::permissions(copy, readable);
  }
}

LocalStack::~LocalStack() {
  stop_scheduler();
  if (cluster_)
    cluster_->stop();
  if (real_mesos_)
    real_mesos_->stop();
}

bool StackOptions::use_real_mesos() {
  const char* which = std::getenv("ETCDMESOS_MESOS");
  return which != nullptr && std::string(which) == "real";
}

std::vector<std::string> LocalStack::scheduler_argv(uint16_t admin_port) const {
  std::vector<std::string> argv;
  if (options_.scheduler_uid) {
    // --pdeathsig=keep: the kernel clears the parent-death signal that
    // ChildProcess set when the user changes, and the scheduler must still die
    // with a crashed test process.
    const auto id = std::to_string(*options_.scheduler_uid);
    argv = {"/usr/bin/setpriv", "--reuid=" + id, "--regid=" + id, "--clear-groups",
            "--pdeathsig=keep"};
  }
  const std::vector<std::string> own{
      (scheduler_bin_dir_ / "etcd-mesos-scheduler").string(),
      "-master=" + zookeeper_->url("/mesos"),
      "-cluster-size=" + std::to_string(options_.cluster_size),
      "-admin-port=" + std::to_string(admin_port),
      "-address=127.0.0.1",
      "-executor-bin=" + (scheduler_bin_dir_ / "etcd-mesos-executor").string(),
      "-health-check-interval=1",
      "-mesos-offer-refuse-seconds=1"};
  argv.insert(argv.end(), own.begin(), own.end());
  if (!options_.persist_path.empty()) {
    const auto servers = options_.persist_through
                             ? options_.persist_through(zookeeper_->connect_string())
                             : zookeeper_->connect_string();
    argv.push_back("-zk-framework-persist=zk://" + servers + options_.persist_path);
  }
  argv.insert(argv.end(), options_.scheduler_args.begin(), options_.scheduler_args.end());
  return argv;
}

std::unique_ptr<ChildProcess> LocalStack::spawn_scheduler(uint16_t admin_port,
                                                          const std::string& name,
                                                          bool wait_for_admin) {
  auto process = std::make_unique<ChildProcess>(scheduler_argv(admin_port), dir_.path() / name);
  if (wait_for_admin &&
      !wait_until([&] { return http_call("GET", "127.0.0.1", admin_port, "/stats").has_value(); },
                  30s)) {
    throw std::runtime_error("the scheduler's admin interface did not come up:\n" +
                             process->stderr_text());
  }
  return process;
}

void LocalStack::start_scheduler() {
  admin_port_ = free_port();
  scheduler_ =
      std::make_unique<ChildProcess>(scheduler_argv(admin_port_), dir_.path() / "scheduler-log");
  if (!wait_until([&] { return admin("/stats").has_value(); }, 30s)) {
    throw std::runtime_error("the scheduler's admin interface did not come up:\n" + logs());
  }
}

void LocalStack::kill_scheduler() {
  if (scheduler_) {
    scheduler_->kill(SIGKILL);
    scheduler_->wait(10s);
  }
}

std::unique_ptr<ChildProcess> LocalStack::swap_scheduler(std::unique_ptr<ChildProcess> other,
                                                         uint16_t admin_port) {
  admin_port_ = admin_port;
  std::swap(scheduler_, other);
  return other;
}

void LocalStack::stop_scheduler() {
  if (scheduler_)
    scheduler_->stop();
}

std::optional<HttpResult> LocalStack::admin(const std::string& target) {
  return http_call("GET", "127.0.0.1", admin_port_, target);
}

uint16_t LocalStack::master_port() {
  if (real_mesos_) {
    return real_mesos_->master_port();
  }
  const auto text = read_file(dir_.path() / "master.endpoint");
  const auto colon = text.rfind(':');
  if (colon != std::string::npos) {
    try {
      master_port_ = static_cast<uint16_t>(std::stoi(text.substr(colon + 1)));
    } catch (const std::exception&) {
      // A file being replaced: keep the last port read.
    }
  }
  return master_port_;
}

std::optional<HttpResult> LocalStack::master(const std::string& method, const std::string& target) {
  return http_call(method, "127.0.0.1", master_port(), target);
}

boost::json::array LocalStack::members() {
  auto answer = admin("/members");
  if (!answer || answer->status != 200)
    return {};
  boost::system::error_code ec;
  auto parsed = boost::json::parse(answer->body, ec);
  if (ec || !parsed.is_array())
    return {};
  return parsed.as_array();
}

boost::json::object LocalStack::stats() {
  auto answer = admin("/stats");
  boost::system::error_code ec;
  auto parsed = answer ? boost::json::parse(answer->body, ec) : boost::json::value{};
  return !ec && parsed.is_object() ? parsed.as_object() : boost::json::object{};
}

boost::json::object LocalStack::health() {
  auto answer = admin("/health");
  boost::system::error_code ec;
  auto parsed = answer ? boost::json::parse(answer->body, ec) : boost::json::value{};
  return !ec && parsed.is_object() ? parsed.as_object() : boost::json::object{};
}

bool LocalStack::partitioned() {
  const auto h = health();
  const auto* scheduler = h.if_contains("scheduler");
  const auto* flag = scheduler && scheduler->is_object()
                         ? scheduler->as_object().if_contains("partitioned")
                         : nullptr;
  return flag != nullptr && flag->is_bool() && flag->as_bool();
}

std::optional<HttpResult> LocalStack::admin_call(const std::string& method,
                                                 const std::string& target,
                                                 const std::string& bearer) {
  HeaderList headers;
  if (!bearer.empty()) {
    headers.emplace_back("Authorization", "Bearer " + bearer);
  }
  return http_call(method, "127.0.0.1", admin_port_, target, "", std::chrono::seconds(5), headers);
}

bool LocalStack::healthy_with(std::size_t size) {
  auto list = members();
  if (list.size() != size) {
    return false;
  }
  for (const auto& m : list) {
    if (m.at("state").as_string() != "TASK_RUNNING") {
      return false;
    }
  }
  auto s = stats();
  return s.contains("healthy") && s.at("healthy").as_int64() == 1;
}

bool LocalStack::stop_agent(const std::string& agent_id) {
  if (real_mesos_) {
    return real_mesos_->lose_agent_host(agent_id);
  }
  auto answer = master("POST", "/control/agents/" + agent_id + "/stop");
  return answer && answer->status == 200;
}

std::string LocalStack::scheduler_log() const {
  return scheduler_ ? scheduler_->stderr_text() : "";
}

std::string LocalStack::logs() const {
  std::string out;
  if (cluster_)
    out += "--- dev cluster stderr ---\n" + cluster_->stderr_text();
  if (real_mesos_)
    out += real_mesos_->logs();
  if (scheduler_)
    out += "--- scheduler stderr ---\n" + scheduler_->stderr_text();
  return out;
}

}  // namespace etcdmesos::testing
