#include "executor/data_copy.hpp"

#include <algorithm>
#include <limits>
#include <system_error>

namespace etcdmesos::executor {

namespace {

constexpr std::uintmax_t kMiB = 1024 * 1024;
constexpr std::uintmax_t kMinCopyMargin = 64 * kMiB;

std::uintmax_t saturating_add(std::uintmax_t a, std::uintmax_t b) {
  return a > std::numeric_limits<std::uintmax_t>::max() - b
             ? std::numeric_limits<std::uintmax_t>::max()
             : a + b;
}

// Rounded up for what is needed and down for what is there, so that a
// refusal never reads as if the copy fitted.
std::string mib_up(std::uintmax_t bytes) {
  return std::to_string(bytes / kMiB + (bytes % kMiB != 0 ? 1 : 0)) + " MiB";
}
std::string mib_down(std::uintmax_t bytes) {
  return std::to_string(bytes / kMiB) + " MiB";
}

}  // namespace

std::uintmax_t copy_margin_bytes(std::uintmax_t data_bytes) {
  return std::max(kMinCopyMargin, data_bytes / 10);
}

std::optional<std::string> copy_does_not_fit(std::uintmax_t data_bytes,
                                             std::uintmax_t available_bytes,
                                             const std::filesystem::path& where) {
  const auto margin = copy_margin_bytes(data_bytes);
  if (available_bytes >= saturating_add(data_bytes, margin)) {
    return std::nullopt;
  }
  return "not enough free space to copy the data directory aside: it needs " +
         mib_up(saturating_add(data_bytes, margin)) + " (" + mib_up(data_bytes) + " of data + " +
         mib_up(margin) + " margin for etcd to write on), " + mib_down(available_bytes) +
         " available on " + where.string();
}

Result<std::uintmax_t> directory_size(const std::filesystem::path& dir) {
  std::error_code ec;
  std::uintmax_t total = 0;
  for (std::filesystem::recursive_directory_iterator it(dir, ec), end; !ec && it != end;
       it.increment(ec)) {
    const bool regular = it->is_regular_file(ec);
    if (ec) {
      break;  // increment() would clear it
    }
    if (!regular) {
      continue;
    }
    const auto size = it->file_size(ec);
    if (ec) {
      break;
    }
    total = saturating_add(total, size);
  }
  if (ec) {
    return make_error("cannot measure " + dir.string() + ": " + ec.message());
  }
  return total;
}

Result<std::uintmax_t> free_space(const std::filesystem::path& dir) {
  std::error_code ec;
  const auto info = std::filesystem::space(dir, ec);
  if (ec) {
    return make_error("cannot tell the free space on " + dir.string() + ": " + ec.message());
  }
  return info.available;
}

Result<std::string> copy_data_dir(const std::filesystem::path& from,
                                  const std::filesystem::path& to, const FreeSpace& space) {
  std::error_code ec;
  if (std::filesystem::exists(to, ec)) {
    return Result<std::string>{boost::system::in_place_value,
                               "kept the earlier copy " + to.string()};
  }
  auto partial = to;
  partial += ".partial";
  // A partial copy of an earlier attempt takes room the check must count.
  std::filesystem::remove_all(partial, ec);
  const auto size = directory_size(from);
  if (!size) {
    return size.error();
  }
  const auto parent = to.parent_path().empty() ? std::filesystem::path(".") : to.parent_path();
  const auto available = space(parent);
  if (!available) {
    return available.error();
  }
  if (auto refusal = copy_does_not_fit(*size, *available, parent)) {
    return make_error(*refusal);
  }
  std::filesystem::copy(from, partial, std::filesystem::copy_options::recursive, ec);
  if (!ec) {
    std::filesystem::rename(partial, to, ec);
  }
  if (ec) {
    std::error_code ignored;
    std::filesystem::remove_all(partial, ignored);
    return make_error("cannot copy " + from.string() + " to " + to.string() + ": " + ec.message());
  }
  return Result<std::string>{boost::system::in_place_value, "copied the data to " + to.string()};
}

}  // namespace etcdmesos::executor
