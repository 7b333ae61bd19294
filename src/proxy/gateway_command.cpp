#include "proxy/gateway_command.hpp"

#include <boost/url/parse.hpp>

namespace etcdmesos::proxy {

std::vector<std::string> gateway_argv(const GatewayCommand& command, const EndpointSet& endpoints) {
  if (!command.cert_file.empty()) {
    std::vector<std::string> argv{command.etcd_bin,
                                  "grpc-proxy",
                                  "start",
                                  "--endpoints=" + join(endpoints, ","),
                                  "--listen-addr=" + command.listen_addr,
                                  "--cert=" + command.cert_file,
                                  "--key=" + command.key_file,
                                  "--cacert=" + command.ca_file};
    if (command.serve_tls) {
      argv.push_back("--cert-file=" + command.cert_file);
      argv.push_back("--key-file=" + command.key_file);
      argv.push_back("--trusted-ca-file=" + command.ca_file);
    }
    if (!command.data_dir.empty()) {
      argv.push_back("--data-dir=" + command.data_dir);
    }
    return argv;
  }
  return {command.etcd_bin,
          "gateway",
          "start",
          "--endpoints=" + join(endpoints, ","),
          "--listen-addr=" + command.listen_addr,
          "--retry-delay=" + go_duration(command.retry_delay)};
}

std::string go_duration(std::chrono::milliseconds d) {
  if (d.count() % 1000 == 0) {
    return std::to_string(d.count() / 1000) + "s";
  }
  return std::to_string(d.count()) + "ms";
}

Result<std::string> listen_address_from_urls(std::string_view urls) {
  const std::string text(urls);
  if (text.find(',') != std::string::npos) {
    return make_error(
        "-listen-client-urls: the gateway listens on one address; give one URL, got '" + text +
        "'");
  }
  auto url = boost::urls::parse_uri(text);
  if (!url) {
    return make_error("-listen-client-urls: '" + text + "' is not a URL such as http://host:port");
  }
  if (url->scheme() != "http" && url->scheme() != "https") {
    return make_error("-listen-client-urls: expected http:// or https://, got '" + text + "'");
  }
  if (url->host().empty() || !parse_port(url->port()) ||
      !(url->path().empty() || url->path() == "/") || url->has_query()) {
    return make_error("-listen-client-urls: expected http(s)://host:port, got '" + text + "'");
  }
  std::string host(url->encoded_host_and_port());
  return Result<std::string>{boost::system::in_place_value, host};
}

bool listens_with_tls(std::string_view urls) {
  auto url = boost::urls::parse_uri(urls);
  return url && url->scheme() == "https";
}

}  // namespace etcdmesos::proxy
