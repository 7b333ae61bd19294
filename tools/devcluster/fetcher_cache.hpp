// One agent's fetcher cache, as Mesos' agent keeps one (--fetcher_cache_dir,
// --fetcher_cache_size): a URI with `cache: true` is downloaded once into the
// cache directory and every sandbox that asks for it again gets a copy from
// there. Entries are keyed by the user the fetch runs for and the URI text,
// so a changed file behind an unchanged URI is never noticed (frameworks put
// a version or digest in the URI). Requests for a URI that is being
// downloaded wait for that one download. When the cache is full, the least
// recently used entries are evicted; a file larger than the whole cache is
// fetched into the sandbox without being cached. The agent empties the cache
// when it starts (reset()), like a Mesos agent does on startup.
//
// Threading: everything on the agent's io_context. Errors (download failed,
// disk full) are values; a failed download leaves no entry behind.
#pragma once

#include "codec/mesos.hpp"
#include "common/error.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <utility>

namespace etcdmesos::devcluster {

struct CachedFetch {
  std::filesystem::path path;  // the copy in the sandbox
  bool from_cache = false;     // true: no download was needed for this request
};

struct FetcherCacheStats {
  std::size_t entries = 0;
  uint64_t bytes = 0;
  uint64_t downloads = 0;  // downloads into the cache since the last reset
  uint64_t hits = 0;       // requests served from an entry that was already there
  uint64_t evictions = 0;
};

class FetcherCache {
 public:
  FetcherCache(boost::asio::any_io_executor ex, std::filesystem::path dir, uint64_t capacity_bytes);
  ~FetcherCache();
  FetcherCache(const FetcherCache&) = delete;
  FetcherCache& operator=(const FetcherCache&) = delete;

  // Empties the directory and forgets every entry (downloads in flight finish
  // without adding one).
  Result<void> reset();

  // Stores `uri` at sandbox/<fetch_file_name(uri)> through the cache, mode
  // 0755 when `executable`, else 0644. `user` is part of the key ("" when the
  // task names none).
  boost::asio::awaitable<Result<CachedFetch>> fetch(const mesos::Uri& uri, const std::string& user,
                                                    const std::filesystem::path& sandbox,
                                                    std::size_t max_bytes,
                                                    std::chrono::milliseconds timeout);

  const std::filesystem::path& dir() const { return dir_; }
  FetcherCacheStats stats() const;

 private:
  struct Entry;
  using Key = std::pair<std::string, std::string>;  // user, URI

  // Downloads into the cache; the entry is ready or removed afterwards.
  boost::asio::awaitable<Result<void>> download(const Key& key, std::shared_ptr<Entry> entry,
                                                std::size_t max_bytes,
                                                std::chrono::milliseconds timeout);
  // Evicts least recently used ready entries (not `keep`) until `bytes` more fit.
  void make_room(uint64_t bytes, const Entry* keep);
  void remove_entry(std::map<Key, std::shared_ptr<Entry>>::iterator it);

  boost::asio::any_io_executor ex_;
  std::filesystem::path dir_;
  uint64_t capacity_bytes_;
  std::map<Key, std::shared_ptr<Entry>> entries_;
  uint64_t used_bytes_ = 0;
  uint64_t next_file_ = 0;
  uint64_t use_clock_ = 0;
  FetcherCacheStats counters_;
};

}  // namespace etcdmesos::devcluster
