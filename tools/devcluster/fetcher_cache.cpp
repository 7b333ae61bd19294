#include "fetcher_cache.hpp"

#include "common/log.hpp"
#include "fetcher.hpp"

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <optional>

namespace etcdmesos::devcluster {

namespace asio = boost::asio;
namespace fs = std::filesystem;

namespace {

auto log() {
  return etcdmesos::logger("fetcher");
}

// The user's directory inside the cache ("" = the cache directory itself).
fs::path user_dir(const fs::path& dir, const std::string& user) {
  return user.empty() ? dir : dir / user;
}

Result<void> copy_into_sandbox(const fs::path& from, const fs::path& to, bool executable) {
  std::error_code ec;
  fs::create_directories(to.parent_path(), ec);
  fs::copy_file(from, to, fs::copy_options::overwrite_existing, ec);
  if (ec) {
    return make_error("Failed to copy '" + from.string() + "' from the cache: " + ec.message());
  }
  fs::permissions(to, executable ? fs::perms(0755) : fs::perms(0644), fs::perm_options::replace,
                  ec);
  if (ec) {
    return make_error("Failed to set the mode of '" + to.string() + "': " + ec.message());
  }
  return {};
}

}  // namespace

struct FetcherCache::Entry {
  explicit Entry(asio::any_io_executor ex) : done(ex, asio::steady_timer::time_point::max()) {}
  fs::path file;
  uint64_t size = 0;
  bool ready = false;
  std::optional<Error> failure;  // the download failed (waiters report it)
  uint64_t last_use = 0;
  asio::steady_timer done;  // cancelled when the download ends
};

FetcherCache::FetcherCache(asio::any_io_executor ex, fs::path dir, uint64_t capacity_bytes)
    : ex_(std::move(ex)), dir_(std::move(dir)), capacity_bytes_(capacity_bytes) {}

FetcherCache::~FetcherCache() = default;

Result<void> FetcherCache::reset() {
  for (auto& [key, entry] : entries_) {
    if (!entry->ready) {
      entry->failure = make_error("The fetcher cache was reset during the download");
      entry->done.cancel();
    }
  }
  entries_.clear();
  used_bytes_ = 0;
  counters_ = {};
  std::error_code ec;
  fs::remove_all(dir_, ec);
  fs::create_directories(dir_, ec);
  if (ec) {
    return make_error("Failed to create the fetcher cache '" + dir_.string() +
                      "': " + ec.message());
  }
  return {};
}

FetcherCacheStats FetcherCache::stats() const {
  auto s = counters_;
  s.entries = entries_.size();
  s.bytes = used_bytes_;
  return s;
}

asio::awaitable<Result<CachedFetch>> FetcherCache::fetch(const mesos::Uri& uri,
                                                         const std::string& user,
                                                         const fs::path& sandbox,
                                                         std::size_t max_bytes,
                                                         std::chrono::milliseconds timeout) {
  auto name = fetch_file_name(uri);
  if (!name) {
    co_return name.error();
  }
  const Key key{user, uri.value};
  bool from_cache = true;
  auto it = entries_.find(key);
  std::shared_ptr<Entry> entry;
  if (it == entries_.end()) {
    from_cache = false;
    entry = std::make_shared<Entry>(ex_);
    entries_[key] = entry;
    auto downloaded = co_await download(key, entry, max_bytes, timeout);
    if (!downloaded) {
      co_return downloaded.error();
    }
  } else {
    entry = it->second;
    if (!entry->ready) {
      // Another sandbox asked first: wait for that one download.
      from_cache = false;
      boost::system::error_code ec;
      co_await entry->done.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      if (entry->failure) {
        co_return *entry->failure;
      }
    } else {
      ++counters_.hits;
    }
  }
  entry->last_use = ++use_clock_;
  const fs::path target = sandbox / *name;
  if (auto copied = copy_into_sandbox(entry->file, target, uri.executable); !copied) {
    co_return copied.error();
  }
  // Larger than the whole cache: served once, not kept.
  if (entry->size > capacity_bytes_) {
    if (auto stale = entries_.find(key); stale != entries_.end() && stale->second == entry) {
      remove_entry(stale);
    }
  }
  co_return CachedFetch{target, from_cache};
}

asio::awaitable<Result<void>> FetcherCache::download(const Key& key, std::shared_ptr<Entry> entry,
                                                     std::size_t max_bytes,
                                                     std::chrono::milliseconds timeout) {
  const auto& [user, uri_text] = key;
  mesos::Uri into_cache;
  into_cache.value = uri_text;
  into_cache.extract = false;
  auto base = fetch_file_name(mesos::Uri{uri_text, false, false, false, std::nullopt});
  into_cache.output_file = "c" + std::to_string(++next_file_) + "-" + (base ? *base : "file");
  const fs::path dir = user_dir(dir_, user);
  auto stored = co_await fetch_uri(ex_, into_cache, dir, max_bytes, timeout);
  const bool current = [&] {
    auto it = entries_.find(key);
    return it != entries_.end() && it->second == entry;
  }();
  std::error_code ec;
  if (!stored || !current) {
    entry->failure =
        stored ? make_error("The fetcher cache was reset during the download") : stored.error();
    if (stored) {
      fs::remove(*stored, ec);
    }
    if (current) {
      entries_.erase(key);
    }
    entry->done.cancel();
    co_return *entry->failure;
  }
  entry->file = *stored;
  entry->size = fs::file_size(entry->file, ec);
  if (entry->size <= capacity_bytes_) {
    make_room(entry->size, entry.get());
  }
  used_bytes_ += entry->size;
  entry->ready = true;
  ++counters_.downloads;
  log()->debug("cached '{}' for user '{}' as '{}' ({} bytes)", uri_text, user, entry->file.string(),
               entry->size);
  entry->done.cancel();
  co_return Result<void>{};
}

void FetcherCache::make_room(uint64_t bytes, const Entry* keep) {
  while (used_bytes_ + bytes > capacity_bytes_) {
    auto victim = entries_.end();
    for (auto it = entries_.begin(); it != entries_.end(); ++it) {
      const auto& e = *it->second;
      if (e.ready && it->second.get() != keep &&
          (victim == entries_.end() || e.last_use < victim->second->last_use)) {
        victim = it;
      }
    }
    if (victim == entries_.end()) {
      return;  // only downloads in flight left; the new entry is served once if it cannot fit
    }
    log()->debug("evicting '{}' from the fetcher cache", victim->first.second);
    ++counters_.evictions;
    remove_entry(victim);
  }
}

void FetcherCache::remove_entry(std::map<Key, std::shared_ptr<Entry>>::iterator it) {
  std::error_code ec;
  fs::remove(it->second->file, ec);
  if (it->second->ready) {
    used_bytes_ -= it->second->size;
  }
  entries_.erase(it);
}

}  // namespace etcdmesos::devcluster
