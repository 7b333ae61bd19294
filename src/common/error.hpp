// Error values for expected failures (bad peer data, refused connections,
// timeouts). Exceptions are reserved for start-up errors; everything a peer
// can cause is returned as Result<T>.
#pragma once

#include <boost/assert/source_location.hpp>
#include <boost/system/result.hpp>

#include <stdexcept>
#include <string>
#include <utility>

namespace etcdmesos {

struct Error {
  std::string message;
  // Optional machine-readable code whose meaning is defined by the producer
  // (ZooKeeper's ZOO_ERRORS for the ZooKeeper client, the HTTP status for an
  // HTTP error answer, 0 otherwise).
  int code = 0;
};

// Lets boost::system::result<T, Error>::value() throw a readable exception
// when a caller insists on a value that is not there.
[[noreturn]] inline void throw_exception_from_error(const Error& e, const boost::source_location&) {
  throw std::runtime_error(e.message);
}

template <class T>
using Result = boost::system::result<T, Error>;

inline Error make_error(std::string message, int code = 0) {
  return Error{std::move(message), code};
}

}  // namespace etcdmesos
