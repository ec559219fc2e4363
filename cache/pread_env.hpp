// A LevelDB Env whose table files are read with pread(2) instead of being mapped.
//
// LevelDB's POSIX Env maps up to 1000 table files into memory and reads them through the
// mapping. Every page a compaction or a scan of the store touches then counts in the proxy's
// resident size until the table is deleted: on the load benchmark's misses that was up to
// 22 MiB of the peak (file-backed pages swinging 8 -> 30 MiB with each compaction). Read
// with pread, the same pages stay in the kernel's page cache, which the kernel reclaims as it
// needs, and only the blocks LevelDB keeps (its block cache, bounded by configuration) are
// the proxy's own memory. Everything else is the default Env's.
#pragma once

#include <leveldb/env.h>

namespace cacheproxy::cache {

// The process-wide instance (LevelDB keeps a pointer to its Env for the life of each DB, so
// it is never destroyed, like leveldb::Env::Default()).
leveldb::Env* pread_env();

}  // namespace cacheproxy::cache
