// What a stopped etcd 3.4 member's data holds as committed: the commit index
// of the last raft hard state its write-ahead log recorded. That is exactly
// what --force-new-cluster keeps (entries past it are dropped on such a
// start), so it ranks fenced reseed candidates better than any status
// answered before the stop, after which the member may still have learned
// of a commit.
//
// The WAL (member/wal/<seq>-<index>.wal, read in name order) is a stream of
// frames: an 8-byte little-endian length field (the lower 56 bits the
// record's length; when its top bit is set, the low 3 bits of the top byte
// the zero padding after it), then a walpb.Record protobuf {type = 1,
// crc = 2, data = 3}. A record of type 3 (state) holds a raftpb.HardState
// {term = 1, vote = 2, commit = 3}. A zero length field is preallocated
// space: the end of that file's records. A torn or malformed frame ends the
// reading; what was read before it stands (etcd repairs such a tail too).
//
// Blocking filesystem reads; errors are values and it never throws.
#pragma once

#include "common/error.hpp"

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string_view>

namespace etcdmesos::executor {

// The commit index of the last hard state in the frames of one WAL file's
// bytes, or nullopt when none is there.
std::optional<uint64_t> last_hard_state_commit(std::string_view wal_bytes);

// The same over every WAL file of `data_dir` (etcd's --data-dir); an error
// when there is no WAL or it records no hard state.
Result<uint64_t> wal_commit_index(const std::filesystem::path& data_dir);

}  // namespace etcdmesos::executor
