#include "proxy/gateway_command.hpp"

#include <boost/url/parse.hpp>

namespace etcdmesos::proxy {

std::vector<std::string> gateway_argv(const GatewayCommand& command, const EndpointSet& endpoints) {
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
  if (url->scheme() != "http") {
    return make_error(
        "-listen-client-urls: only http:// is supported (the gateway forwards TCP; "
        "TLS would be between the client and the members), got '" +
        text + "'");
  }
  if (url->host().empty() || !parse_port(url->port()) ||
      !(url->path().empty() || url->path() == "/") || url->has_query()) {
    return make_error("-listen-client-urls: expected http://host:port, got '" + text + "'");
  }
  std::string host(url->encoded_host_and_port());
  return Result<std::string>{boost::system::in_place_value, host};
}

}  // namespace etcdmesos::proxy
