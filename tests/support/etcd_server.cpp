#include "support/etcd_server.hpp"

#include <boost/json.hpp>

#include <unistd.h>

#include <cctype>
#include <charconv>
#include <random>
#include <stdexcept>

namespace etcdmesos::testing {

namespace {

constexpr const char* kEtcdBinary = "/usr/bin/etcd";

std::string random_token() {
  std::random_device rd;
  std::uniform_int_distribution<uint64_t> dist;
  return "etcdmesos-test-" + std::to_string(dist(rd));
}

// etcd's JSON gateway writes uint64 as decimal strings (reference §4).
uint64_t json_u64(const boost::json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  if (v == nullptr) {
    return 0;
  }
  if (v->is_string()) {
    const auto& s = v->get_string();
    uint64_t out = 0;
    std::from_chars(s.data(), s.data() + s.size(), out);
    return out;
  }
  if (v->is_uint64()) {
    return v->get_uint64();
  }
  if (v->is_int64() && v->get_int64() >= 0) {
    return static_cast<uint64_t>(v->get_int64());
  }
  return 0;
}

std::optional<std::string> dechunk(std::string_view body) {
  std::string out;
  while (true) {
    auto eol = body.find("\r\n");
    if (eol == std::string_view::npos) {
      return std::nullopt;
    }
    std::size_t size = 0;
    auto [ptr, ec] = std::from_chars(body.data(), body.data() + eol, size, 16);
    if (ec != std::errc() || body.size() < eol + 2 + size) {
      return std::nullopt;
    }
    if (size == 0) {
      return out;
    }
    out.append(body.substr(eol + 2, size));
    body.remove_prefix(std::min(body.size(), eol + 2 + size + 2));
  }
}

std::optional<HttpAnswer> parse_http_response(const std::string& raw) {
  auto header_end = raw.find("\r\n\r\n");
  if (raw.rfind("HTTP/1.1 ", 0) != 0 || header_end == std::string::npos || raw.size() < 12) {
    return std::nullopt;
  }
  HttpAnswer answer;
  std::from_chars(raw.data() + 9, raw.data() + 12, answer.status);
  std::string header = raw.substr(0, header_end);
  for (auto& c : header) {
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  std::string_view body(raw);
  body.remove_prefix(header_end + 4);
  if (header.find("transfer-encoding: chunked") != std::string::npos) {
    auto decoded = dechunk(body);
    if (!decoded) {
      return std::nullopt;
    }
    answer.body = std::move(*decoded);
  } else {
    answer.body = std::string(body);
  }
  return answer;
}

}  // namespace

std::optional<HttpAnswer> http_post(uint16_t port, const std::string& target,
                                    const std::string& body, std::chrono::milliseconds timeout) {
  std::string request =
      "POST " + target + " HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(port) +
      "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
      "\r\nConnection: close\r\n\r\n" + body;
  auto raw = tcp_exchange("127.0.0.1", port, request, timeout);
  if (!raw) {
    return std::nullopt;
  }
  return parse_http_response(*raw);
}

EtcdCluster::EtcdCluster(std::size_t size)
    : EtcdCluster([size] {
        EtcdClusterOptions options;
        options.size = size;
        return options;
      }()) {}

EtcdCluster::EtcdCluster(EtcdClusterOptions options)
    : options_(std::move(options)), dir_("etcdmesos-etcd") {
  if (options_.size == 0) {
    throw std::invalid_argument("EtcdCluster: size 0");
  }
  // A start that fails anyway (a stray process on a leased port, a slow
  // election) is retried with fresh ports and data dirs.
  for (int attempt = 0; attempt < 3; ++attempt) {
    if (start_all()) {
      return;
    }
    stop();
  }
  std::string logs;
  for (std::size_t i = 0; i < members_.size(); ++i) {
    logs += "--- " + name(i) + "\n" + log_text(i);
  }
  throw std::runtime_error("etcd cluster did not become healthy; logs:\n" + logs);
}

EtcdCluster::~EtcdCluster() {
  stop();
}

bool EtcdCluster::start_all() {
  token_ = random_token();
  members_.clear();
  for (std::size_t i = 0; i < options_.size; ++i) {
    MemberProcess m;
    m.name = "m" + std::to_string(i);
    m.client_port = free_port();
    m.peer_port = free_port();
    members_.push_back(std::move(m));
  }
  for (std::size_t i = 0; i < members_.size(); ++i) {
    std::filesystem::remove_all(dir_.path() / (name(i) + ".etcd"));
    start(i);
  }
  return wait_healthy(options_.start_timeout);
}

std::string EtcdCluster::name(std::size_t i) const {
  return members_.at(i).name;
}
uint16_t EtcdCluster::client_port(std::size_t i) const {
  return members_.at(i).client_port;
}
uint16_t EtcdCluster::peer_port(std::size_t i) const {
  return members_.at(i).peer_port;
}

std::string EtcdCluster::client_url(std::size_t i) const {
  return "http://127.0.0.1:" + std::to_string(client_port(i));
}

std::string EtcdCluster::peer_url(std::size_t i) const {
  return "http://127.0.0.1:" + std::to_string(peer_port(i));
}

std::vector<std::string> EtcdCluster::client_urls() const {
  std::vector<std::string> urls;
  for (std::size_t i = 0; i < members_.size(); ++i) {
    urls.push_back(client_url(i));
  }
  return urls;
}

std::string EtcdCluster::initial_cluster() const {
  std::string out;
  for (std::size_t i = 0; i < members_.size(); ++i) {
    out += (i == 0 ? "" : ",") + name(i) + "=" + peer_url(i);
  }
  return out;
}

std::vector<std::string> EtcdCluster::argv(std::size_t i) const {
  std::vector<std::string> args = {kEtcdBinary,
                                   "--name=" + name(i),
                                   "--data-dir=" + (dir_.path() / (name(i) + ".etcd")).string(),
                                   "--logger=zap",
                                   "--log-outputs=stderr",
                                   "--listen-client-urls=" + client_url(i),
                                   "--advertise-client-urls=" + client_url(i),
                                   "--listen-peer-urls=" + peer_url(i),
                                   "--initial-advertise-peer-urls=" + peer_url(i),
                                   "--initial-cluster=" + initial_cluster(),
                                   "--initial-cluster-state=new",
                                   "--initial-cluster-token=" + token_};
  args.insert(args.end(), options_.extra_args.begin(), options_.extra_args.end());
  return args;
}

void EtcdCluster::start(std::size_t i) {
  // etcd exits when a flag is also set through ETCD_* (reference §2), so
  // inherited ones are removed with env -u.
  std::vector<std::string> command = {"/usr/bin/env"};
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    std::string entry(*e);
    if (entry.rfind("ETCD_", 0) == 0) {
      command.push_back("-u");
      command.push_back(entry.substr(0, entry.find('=')));
    }
  }
  auto args = argv(i);
  if (command.size() == 1) {
    command.clear();
  }
  command.insert(command.end(), args.begin(), args.end());
  members_.at(i).process =
      std::make_unique<ChildProcess>(command, dir_.path() / ("logs-" + name(i)));
}

bool EtcdCluster::running(std::size_t i) {
  auto& p = members_.at(i).process;
  return p && p->running();
}

void EtcdCluster::kill(std::size_t i, int signo) {
  auto& p = members_.at(i).process;
  if (!p) {
    return;
  }
  p->kill(signo);
  if (signo == SIGKILL || signo == SIGTERM) {
    p->stop();
  }
}

void EtcdCluster::stop(std::size_t i) {
  if (auto& p = members_.at(i).process; p) {
    p->stop();
  }
}

void EtcdCluster::stop() {
  for (std::size_t i = 0; i < members_.size(); ++i) {
    stop(i);
  }
}

void EtcdCluster::restart(std::size_t i) {
  stop(i);
  start(i);
}

std::optional<HttpAnswer> EtcdCluster::post(std::size_t i, const std::string& target,
                                            const std::string& body,
                                            std::chrono::milliseconds timeout) {
  return http_post(client_port(i), target, body, timeout);
}

std::optional<EtcdStatus> EtcdCluster::status(std::size_t i, std::chrono::milliseconds timeout) {
  auto answer = post(i, "/v3/maintenance/status", "{}", timeout);
  if (!answer || answer->status != 200) {
    return std::nullopt;
  }
  boost::system::error_code ec;
  auto value = boost::json::parse(answer->body, ec);
  if (ec || !value.is_object()) {
    return std::nullopt;
  }
  const auto& o = value.get_object();
  EtcdStatus status;
  status.leader = json_u64(o, "leader");
  status.raft_index = json_u64(o, "raftIndex");
  status.raft_term = json_u64(o, "raftTerm");
  if (const auto* header = o.if_contains("header"); header != nullptr && header->is_object()) {
    status.member_id = json_u64(header->get_object(), "member_id");
  }
  if (const auto* errors = o.if_contains("errors"); errors != nullptr && errors->is_array()) {
    for (const auto& e : errors->get_array()) {
      if (e.is_string()) {
        status.errors.emplace_back(e.get_string());
      }
    }
  }
  return status;
}

bool EtcdCluster::wait_healthy(std::chrono::milliseconds timeout) {
  return wait_until(
      [this] {
        std::optional<uint64_t> leader;
        for (std::size_t i = 0; i < members_.size(); ++i) {
          if (!running(i)) {
            continue;
          }
          auto s = status(i, std::chrono::milliseconds(1000));
          if (!s || s->leader == 0 || (leader && *leader != s->leader)) {
            return false;
          }
          leader = s->leader;
        }
        return leader.has_value();
      },
      timeout);
}

std::string EtcdCluster::log_text(std::size_t i) const {
  const auto& p = members_.at(i).process;
  return p ? p->stdout_text() + p->stderr_text() : std::string();
}

}  // namespace etcdmesos::testing
