// The LevelDB Store. Key layout: leveldb_layout.hpp. Body bytes: body_segments.hpp.
//
// An entry is visible once its meta is; commit writes meta, last chunk and use record, deletes
// the previous body (its chunks and use record) and the insert's i/ record in one WriteBatch.
// An insert that dies before committing leaves its i/ record, by which the next open finds
// and deletes its chunks without reading every body in the store.
//
// A chunk record holds a pointer to the chunk's bytes in a segment file, written there before
// the record. Deleting the record leaves the bytes as garbage; the segment collector (its own
// thread) deletes segments nothing points into and copies the live extents out of the least
// live ones, whenever the segments hold more than the budget allows (segment_collection.hpp).
#include "cache/leveldb_store.hpp"

#include <fmt/format.h>
#include <leveldb/cache.h>
#include <leveldb/db.h>
#include <leveldb/iterator.h>
#include <leveldb/options.h>
#include <leveldb/write_batch.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <bit>
#include <chrono>
#include <condition_variable>
#include <limits>
#include <mutex>
#include <optional>
#include <span>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "cache/background_thread.hpp"
#include "cache/body_segments.hpp"
#include "cache/entry_codec.hpp"
#include "cache/leveldb_layout.hpp"
#include "cache/policy_state_file.hpp"
#include "cache/segment_collection.hpp"
#include "cache/pread_env.hpp"
#include "cache/eviction_policy.hpp"

namespace cacheproxy::cache {
namespace {

using namespace leveldb_layout;

// Body ids are reserved on disk this many at a time, so an id is never handed out twice,
// even across a crash, at the cost of one small write per this many inserts.
constexpr std::uint64_t kBodyIdReserve = 4096;
// Uses recorded by lookup() and touch() are written in batches of this many (and on close):
// a crash loses at most this much recency, never an entry.
constexpr std::size_t kUseFlushCount = 64;
// Chunk sizes above this are refused (LevelDB values are read whole).
constexpr std::uint64_t kMaxChunkBytes = 1u << 30;
// Deletions at open are written in batches of this many.
constexpr int kOpenBatchOps = 1024;
// The collector installs copied extents in batches of at most this many records or bytes.
constexpr std::size_t kCollectBatchRecords = 256;
constexpr std::uint64_t kCollectBatchBytes = 4 << 20;

// Segment size when the options leave it to the store: a 32nd of the budget, within
// [1 MiB, 64 MiB], so the two-segment allowance stays small against the budget.
std::uint64_t default_segment_bytes(std::uint64_t budget_bytes) {
  return std::clamp<std::uint64_t>(budget_bytes / 32, 1 << 20, 64 << 20);
}

leveldb::Slice to_slice(std::string_view s) { return {s.data(), s.size()}; }
std::string_view to_view(const leveldb::Slice& s) { return {s.data(), s.size()}; }

// A use record's value (leveldb_layout.hpp): when the key was last used, and its rank.
std::string use_value(std::uint64_t use, const EvictionRank& rank) {
  std::string v = fixed64(use);
  put_big_endian(v, rank.frequency, 4);
  put_big_endian(v, std::bit_cast<std::uint64_t>(rank.priority), 8);
  return v;
}

// Parses a use record's value, of this version or the older 8-byte one (no rank).
bool parse_use_value(std::string_view v, std::uint64_t* use, EvictionRank* rank) {
  if (v.size() == 8) {
    *rank = {};
    return get_big_endian64(v, use);
  }
  if (v.size() != kUseValueBytes || !get_big_endian64(v.substr(0, 8), use)) return false;
  std::uint64_t frequency_word = 0, priority_bits = 0;
  for (char c : v.substr(8, 4))
    frequency_word = (frequency_word << 8) | static_cast<unsigned char>(c);
  if (!get_big_endian64(v.substr(12), &priority_bits)) return false;
  const double priority = std::bit_cast<double>(priority_bits);
  // A damaged rank is only a worse guess of the entry's value: rank it as new.
  if (!(priority >= 0) || priority == std::numeric_limits<double>::infinity()) {
    *rank = {};
    return true;
  }
  *rank = {static_cast<std::uint32_t>(frequency_word), priority};
  return true;
}

leveldb::ReadOptions checked_reads() {
  leveldb::ReadOptions ro;
  ro.verify_checksums = true;
  return ro;
}

// Collects deletions during open and writes them in bounded batches.
class OpenDeleter {
 public:
  explicit OpenDeleter(leveldb::DB* db) : db_(db) {}
  void remove(std::string_view key) {
    batch_.Delete(to_slice(key));
    if (++ops_ >= kOpenBatchOps) flush();
  }
  void flush() {
    if (ops_ == 0 || !status_.ok()) return;
    status_ = db_->Write(leveldb::WriteOptions(), &batch_);
    batch_.Clear();
    ops_ = 0;
  }
  const leveldb::Status& status() const { return status_; }

 private:
  leveldb::DB* db_;
  leveldb::WriteBatch batch_;
  int ops_ = 0;
  leveldb::Status status_;
};

// Calls fn(record key, value) for every record whose key starts with prefix, in key order,
// verifying checksums. Returns the scan's status.
template <class Fn>
leveldb::Status scan_prefix(leveldb::DB* db, std::string_view prefix, Fn&& fn) {
  std::unique_ptr<leveldb::Iterator> it(db->NewIterator(checked_reads()));
  const leveldb::Slice p = to_slice(prefix);
  for (it->Seek(p); it->Valid() && it->key().starts_with(p); it->Next())
    fn(to_view(it->key()), to_view(it->value()));
  return it->status();
}

// The body id of a u/ or b/ record key, or 0 (never a body id) if the key is malformed.
std::uint64_t record_body_id(std::string_view record) {
  std::uint64_t id = 0;
  if (record.size() < 2 + kBodyIdBytes || !get_big_endian64(record.substr(2, kBodyIdBytes), &id))
    return 0;
  return id;
}

// All the state behind one open store. Shared by the Store handle and its live inserts, so
// an insert that outlives the handle still has a database to write to and clean up in.
class Engine : public std::enable_shared_from_this<Engine> {
 public:
  Engine(const LevelDbStoreOptions& options, std::unique_ptr<EvictionPolicy> index)
      : budget_bytes_(options.budget_bytes), index_(std::move(index)) {}
  ~Engine();

  bool open(const LevelDbStoreOptions& options, std::string* error);

  std::optional<EntryMeta> lookup(std::string_view key, Store::CountUse count);
  std::optional<std::string> read_body(std::string_view key, const EntryMeta& meta,
                                       std::uint64_t offset, std::size_t max_bytes);
  std::unique_ptr<BodyPin> pin_body(std::string_view key, const EntryMeta& meta);
  void unpin_body(std::uint64_t body_id);
  std::unique_ptr<Insert> begin_insert(std::string key);
  bool update_meta(std::string_view key, const EntryMeta& meta);
  bool quick_miss(std::string_view key);
  void touch(std::string_view key);
  void touch(std::string_view key, std::uint32_t uses);
  void erase(std::string_view key);
  std::size_t erase_prefix(std::string_view prefix);
  StoreUsage usage() const;
  StoreCounters counters() const;

  // For inserts. Writes one full chunk, with the insert's i/ record along with the first.
  bool write_chunk(std::uint64_t body_id, std::uint32_t index, std::string_view data);
  // An insert ready to be made visible: its last chunk is in the segments, its meta encoded.
  struct PreparedCommit {
    const std::string* key = nullptr;
    std::uint64_t body_id = 0;
    std::uint32_t written_chunks = 0;
    std::string encoded_meta;
    EvictionEntry entry;
    std::optional<BodyExtent> last_extent;
    std::uint64_t use = 0;  // its use sequence, given when it is written
    std::optional<EvictionEntry> previous;  // the entry it replaces, if any
    bool committed = false;
  };
  // Prepares the commit of an insert whose unwritten tail (possibly empty) is last_chunk:
  // false if it cannot be committed (over the budget, or the segment write failed).
  // last_chunk_crc, when known, is last_chunk's CRC-32C.
  bool prepare_commit(PreparedCommit& commit, EntryMeta meta, std::string_view last_chunk,
                      std::optional<std::uint32_t> last_chunk_crc);
  // Makes prepared entries visible, with one database write for each run of distinct keys,
  // then evicts once; sets each one's `committed`.
  void commit_prepared(std::span<PreparedCommit*> commits);
  // Deletes the chunks an uncommitted insert wrote, and its i/ record.
  void discard_insert(std::uint64_t body_id, std::uint32_t written_chunks);

  // Appends chunk bytes to the body segments. Settle the extent once its record is written.
  std::optional<BodyExtent> append_to_segment(std::string_view data) {
    return segments_.append(data);
  }
  void settle(const std::optional<BodyExtent>& extent) {
    if (extent) segments_.settle(*extent);
  }

  std::size_t chunk_bytes() const { return chunk_bytes_; }
  std::uint64_t budget_bytes() const { return budget_bytes_.load(std::memory_order_relaxed); }
  void set_budget(std::uint64_t bytes);

 private:
  // Discards every record of a store of another layout version (or none), then marks the
  // store as kFormatVersion.
  bool check_format(const LevelDbStoreOptions& options, std::string* error, bool* discarded);
  bool load_format(const LevelDbStoreOptions& options, std::string* error);
  // Reads the 8-byte record name into *value, first writing initial if there is none.
  leveldb::Status read_or_init(std::string_view name, std::uint64_t initial, std::uint64_t* value);
  bool rebuild(std::string* error);
  std::uint64_t allocate_body_id();

  // The segment collector's thread: wakes every second, or when woken by a commit, and
  // collects segments while collection_due().
  void collector_loop();
  bool collection_due();
  bool collection_due(std::uint64_t live_bytes) const;
  // Scans the chunk records for the live bytes of each sealed segment, then frees what
  // plan_collection() says: deletes the dead segments and copies the live extents of the
  // others into the active segment before deleting them. Returns false if there was
  // nothing to collect.
  bool collect_segments();
  // Copies extents (chunk record key, extent in the segment being collected) and points
  // their records at the copies, unless a record changed meanwhile.
  bool move_extents(const std::vector<std::pair<std::string, BodyExtent>>& records);

  // Adds to batch the deletion of the records of entry's body: its use record, and its
  // chunks unless the body is pinned (then they go with the first write after the last pin,
  // and its i/ record lets the next open delete them if the process dies first).
  void delete_body(leveldb::WriteBatch& batch, const EvictionEntry& entry);
  // Adds to batch the deletion of the chunks of bodies released while pinned whose last pin
  // has gone.
  void delete_unpinned_locked(leveldb::WriteBatch& batch);
  // Deletes every record of key and forgets it. Returns false if the write failed.
  // meta_on_disk: key's meta record may exist even if the index does not know key.
  bool erase_locked(std::string_view key, bool meta_on_disk = false);
  // Erase key, counting it in corrupt_erased, if its meta record is still undecodable or
  // unreadable / if its current body is still body_id, in which a chunk was found damaged.
  void erase_corrupt_meta(std::string_view key);
  void erase_corrupt_body(std::string_view key, std::uint64_t body_id);
  void record_use_locked(std::string_view key, std::uint32_t uses = 1);
  // Queues the use record (with the policy's current rank) of key for the next batch.
  void note_use_locked(std::string_view key, std::uint64_t use);
  void flush_uses_locked();
  // Evicts least valuable entries until usage is within the budget.
  void evict_locked();

  std::atomic<std::uint64_t> budget_bytes_;  // written under mutex_, read by inserts without it
  std::size_t chunk_bytes_ = 0;              // set by open(), then constant
  std::string state_path_;                   // the policy's saved state; set by open()
  BodySegments segments_;

  std::thread collector_;
  std::mutex collector_mutex_;
  std::condition_variable collector_wake_;
  std::atomic<bool> stopping_{false};

  // The block cache must outlive the database that uses it: declared first, destroyed last.
  std::unique_ptr<leveldb::Cache> block_cache_;
  std::unique_ptr<leveldb::DB> db_;

  mutable std::mutex mutex_;
  // Everything below is guarded by mutex_. Multi-key writes are made while holding it, so
  // the index and the database change together; body reads and chunk writes are not.
  std::unique_ptr<EvictionPolicy> index_;
  std::unordered_map<std::string, std::uint64_t> pending_uses_;  // key -> use sequence
  struct Pinned {
    std::string key;
    std::uint32_t pins = 0;
    std::uint64_t body_size = 0;
    bool released = false;  // no longer the body of any entry: deleted after the last pin
  };
  std::unordered_map<std::uint64_t, Pinned> pinned_;  // body id -> its pins
  std::vector<EvictionEntry> unpinned_;  // released bodies whose last pin went: to delete
  std::uint64_t next_use_ = 1;
  std::uint64_t next_body_id_ = 1;
  std::uint64_t body_id_limit_ = 1;
  StoreCounters counters_;
};

class LevelDbInsert final : public Insert {
 public:
  LevelDbInsert(std::shared_ptr<Engine> engine, std::string key, std::uint64_t body_id)
      : engine_(std::move(engine)), key_(std::move(key)), body_id_(body_id) {}
  ~LevelDbInsert() override { abort(); }

  bool append(std::string_view data) override {
    if (done_) return false;
    appended_ += data.size();
    // A body larger than the whole budget could never be committed: stop writing it now.
    if (appended_ > engine_->budget_bytes()) {
      abort();
      return false;
    }
    const std::size_t chunk_bytes = engine_->chunk_bytes();
    while (!data.empty()) {
      const std::size_t n = std::min(data.size(), chunk_bytes - buffer_.size());
      buffer_.append(data.substr(0, n));
      data.remove_prefix(n);
      if (buffer_.size() == chunk_bytes) {
        // Chunk indexes are 4 bytes in the key layout.
        if (written_chunks_ == std::numeric_limits<std::uint32_t>::max() ||
            !engine_->write_chunk(body_id_, written_chunks_, buffer_)) {
          abort();
          return false;
        }
        ++written_chunks_;
        buffer_.clear();
      }
    }
    return true;
  }

  bool commit(EntryMeta meta) override { return commit(std::move(meta), std::string_view()); }

  bool commit(EntryMeta meta, std::string_view last_bytes) override {
    Engine::PreparedCommit commit;
    if (!prepare(std::move(meta), last_bytes, std::nullopt, commit)) return false;
    Engine::PreparedCommit* one[] = {&commit};
    engine_->commit_prepared(one);
    return finish(commit.committed);
  }

  // commit(), in two halves around Engine::commit_prepared (a group commit). last_bytes_crc,
  // when known, is last_bytes' CRC-32C.
  bool prepare(EntryMeta meta, std::string_view last_bytes,
               std::optional<std::uint32_t> last_bytes_crc, Engine::PreparedCommit& commit) {
    if (done_) return false;
    // The usual small body: its bytes go to the segments straight from the caller's buffer,
    // as the last (and only partial) chunk, without a copy into buffer_ first.
    const bool direct = buffer_.empty() && last_bytes.size() < engine_->chunk_bytes();
    if (!direct && !append(last_bytes)) return false;
    if (direct) appended_ += last_bytes.size();
    const std::string_view last_chunk = direct ? last_bytes : std::string_view(buffer_);
    commit.key = &key_;
    commit.body_id = body_id_;
    commit.written_chunks = written_chunks_;
    if (meta.body_size != appended_ || appended_ > engine_->budget_bytes() ||
        !engine_->prepare_commit(commit, std::move(meta), last_chunk,
                                 direct ? last_bytes_crc : std::nullopt)) {
      abort();
      return false;
    }
    return true;
  }
  bool finish(bool committed) {
    if (!committed) {
      abort();
      return false;
    }
    done_ = true;
    buffer_.clear();
    return true;
  }

  void abort() override {
    if (done_) return;
    done_ = true;
    buffer_.clear();
    engine_->discard_insert(body_id_, written_chunks_);
  }

  void abandon() { done_ = true; }

 private:
  std::shared_ptr<Engine> engine_;
  const std::string key_;
  const std::uint64_t body_id_;
  std::string buffer_;  // the chunk being filled; never reaches chunk_bytes between calls
  std::uint32_t written_chunks_ = 0;
  std::uint64_t appended_ = 0;
  bool done_ = false;  // committed, aborted, failed or abandoned
};

class LevelDbPin final : public BodyPin {
 public:
  LevelDbPin(std::shared_ptr<Engine> engine, std::uint64_t body_id)
      : engine_(std::move(engine)), body_id_(body_id) {}
  ~LevelDbPin() override { engine_->unpin_body(body_id_); }
  LevelDbPin(const LevelDbPin&) = delete;
  LevelDbPin& operator=(const LevelDbPin&) = delete;

 private:
  std::shared_ptr<Engine> engine_;
  const std::uint64_t body_id_;
};

// The Store handed out: forwards to the shared engine.
class LevelDbStore final : public Store {
 public:
  explicit LevelDbStore(std::shared_ptr<Engine> engine) : engine_(std::move(engine)) {}

  std::optional<EntryMeta> lookup(std::string_view key, CountUse count = CountUse::yes) override {
    return engine_->lookup(key, count);
  }
  std::unique_ptr<BodyPin> pin_body(std::string_view key, const EntryMeta& meta) override {
    return engine_->pin_body(key, meta);
  }
  std::optional<std::string> read_body(std::string_view key, const EntryMeta& meta,
                                       std::uint64_t offset, std::size_t max_bytes) override {
    return engine_->read_body(key, meta, offset, max_bytes);
  }
  std::unique_ptr<Insert> begin_insert(std::string key) override {
    return engine_->begin_insert(std::move(key));
  }
  void commit_all(std::span<PendingCommit> commits) override {
    std::vector<Engine::PreparedCommit> prepared(commits.size());
    std::vector<LevelDbInsert*> inserts(commits.size());
    std::vector<Engine::PreparedCommit*> ready;
    ready.reserve(commits.size());
    for (std::size_t i = 0; i < commits.size(); ++i) {
      // Inserts come from this store (the interface's rule); any other is left uncommitted.
      inserts[i] = dynamic_cast<LevelDbInsert*>(commits[i].insert);
      if (inserts[i] &&
          inserts[i]->prepare(std::move(commits[i].meta), commits[i].last_bytes,
                              commits[i].last_bytes_crc, prepared[i]))
        ready.push_back(&prepared[i]);
    }
    if (!ready.empty()) engine_->commit_prepared(ready);
    for (std::size_t i = 0; i < commits.size(); ++i)
      commits[i].committed = inserts[i] && inserts[i]->finish(prepared[i].committed);
  }
  bool update_meta(std::string_view key, const EntryMeta& meta) override {
    return engine_->update_meta(key, meta);
  }
  bool quick_miss(std::string_view key) override { return engine_->quick_miss(key); }
  void touch(std::string_view key) override { engine_->touch(key); }
  void touch(std::string_view key, std::uint32_t uses) override { engine_->touch(key, uses); }
  void erase(std::string_view key) override { engine_->erase(key); }
  std::size_t erase_prefix(std::string_view prefix) override {
    return engine_->erase_prefix(prefix);
  }
  StoreUsage usage() const override { return engine_->usage(); }
  StoreCounters counters() const override { return engine_->counters(); }
  void set_budget(std::uint64_t bytes) override { engine_->set_budget(bytes); }

 private:
  std::shared_ptr<Engine> engine_;
};

// ---- Engine: open and rebuild ----

Engine::~Engine() {
  if (collector_.joinable()) {
    {
      std::lock_guard lock(collector_mutex_);
      stopping_ = true;
    }
    collector_wake_.notify_one();
    collector_.join();
  }
  if (!db_) return;
  std::lock_guard lock(mutex_);
  flush_uses_locked();
  // Every pin holds the engine: none is left, so every released body can go.
  leveldb::WriteBatch unpinned;
  delete_unpinned_locked(unpinned);
  (void)db_->Write(leveldb::WriteOptions(), &unpinned);
  // Saved on a clean close only; after a crash the next open starts the policy's history
  // afresh (the entries and their ranks are in their use records).
  const std::string state = index_->save_state();
  if (!state.empty()) (void)write_policy_state_file(state_path_, state);
}

bool Engine::open(const LevelDbStoreOptions& options, std::string* error) {
  state_path_ = (std::filesystem::path(options.directory) / kPolicyStateFile).string();
  block_cache_.reset(leveldb::NewLRUCache(options.block_cache_bytes));
  leveldb::Options lo;
  lo.create_if_missing = true;
  lo.paranoid_checks = true;
  lo.block_cache = block_cache_.get();
  lo.write_buffer_size = options.write_buffer_bytes;
  lo.max_file_size = options.table_file_bytes;
  lo.env = pread_env();  // tables read with pread, not mapped into the resident size
  // Most cached bodies are already compressed (images, video, gzip or brotli text): Snappy
  // would spend CPU on every write and every compaction for little space.
  lo.compression = leveldb::kNoCompression;
  leveldb::DB* db = nullptr;
  const leveldb::Status s = leveldb::DB::Open(lo, options.directory, &db);
  if (!s.ok()) {
    *error = fmt::format("cannot open cache store {}: {}", options.directory, s.ToString());
    return false;
  }
  db_.reset(db);
  bool discarded = false;
  if (!check_format(options, error, &discarded) || !load_format(options, error)) return false;
  const std::uint64_t segment_bytes = options.segment_bytes != 0
                                          ? options.segment_bytes
                                          : default_segment_bytes(options.budget_bytes);
  // Segments of a discarded store, or of a new one (left over from a store whose database
  // was deleted), hold nothing this database points to.
  if (!segments_.open(std::filesystem::path(options.directory) / "bodies", segment_bytes,
                      chunk_bytes_, discarded, error) ||
      !rebuild(error))
    return false;
  collector_ = std::thread([this] { collector_loop(); });
  return true;
}

bool Engine::check_format(const LevelDbStoreOptions& options, std::string* error,
                          bool* discarded) {
  std::string raw;
  leveldb::Status s = db_->Get(checked_reads(), to_slice(kFormatKey), &raw);
  std::uint64_t version = 0;
  if (s.ok() && get_big_endian64(raw, &version) && version == kFormatVersion) return true;
  *discarded = true;
  if (!s.ok() && !s.IsNotFound() && !s.IsCorruption()) {
    *error = fmt::format("cache store {}: {}", options.directory, s.ToString());
    return false;
  }
  // No format record (a new store, or format 1, which had none), another version, or an
  // unreadable one: whatever is there cannot be read as this layout. Everything goes,
  // including !chunk_bytes, so the options given now apply.
  OpenDeleter del(db_.get());
  bool any = false;
  {
    leveldb::ReadOptions ro;
    ro.fill_cache = false;
    std::unique_ptr<leveldb::Iterator> it(db_->NewIterator(ro));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      del.remove(to_view(it->key()));
      any = true;
    }
    s = it->status();
  }
  del.flush();
  if (s.ok()) s = del.status();
  if (s.ok()) s = db_->Put(leveldb::WriteOptions(), to_slice(kFormatKey), fixed64(kFormatVersion));
  if (!s.ok()) {
    *error = fmt::format("cache store {}: cannot discard a store of another format: {}",
                         options.directory, s.ToString());
    return false;
  }
  // Give the discarded store's disk space back now rather than at some later compaction.
  if (any) db_->CompactRange(nullptr, nullptr);
  return true;
}

bool Engine::load_format(const LevelDbStoreOptions& options, std::string* error) {
  std::uint64_t chunk_bytes = 0;
  leveldb::Status s = read_or_init(kChunkBytesKey, options.chunk_bytes, &chunk_bytes);
  if (s.ok() && (chunk_bytes == 0 || chunk_bytes > kMaxChunkBytes))
    s = leveldb::Status::Corruption("chunk size record out of range");
  if (s.ok()) s = read_or_init(kBodyIdLimitKey, 1, &body_id_limit_);
  if (s.ok() && body_id_limit_ == 0) s = leveldb::Status::Corruption("body id record is 0");
  if (!s.ok()) {
    *error = fmt::format("cache store {}: {}", options.directory, s.ToString());
    return false;
  }
  chunk_bytes_ = static_cast<std::size_t>(chunk_bytes);
  next_body_id_ = body_id_limit_;
  return true;
}

leveldb::Status Engine::read_or_init(std::string_view name, std::uint64_t initial,
                                     std::uint64_t* value) {
  std::string raw;
  const leveldb::Status s = db_->Get(checked_reads(), to_slice(name), &raw);
  if (s.IsNotFound()) {
    *value = initial;
    return db_->Put(leveldb::WriteOptions(), to_slice(name), fixed64(initial));
  }
  if (s.ok() && !get_big_endian64(raw, value)) return leveldb::Status::Corruption(to_slice(name));
  return s;
}

bool Engine::rebuild(std::string* error) {
  struct Loaded {
    std::string key;
    EvictionEntry entry;
    std::uint64_t last_use = 0;
    EvictionRank rank;
  };
  std::unordered_map<std::string, Loaded> loaded;
  std::unordered_map<std::uint64_t, Loaded*> by_body;  // the bodies metas name
  bool sweep = false;  // some body may have lost its meta: delete what no meta names
  OpenDeleter del(db_.get());
  std::uint64_t max_body_id = 0;
  std::uint64_t max_use = 0;
  leveldb::DB* db = db_.get();

  // Metas: the entries. One that does not decode is erased, its body with it below.
  leveldb::Status s =
      scan_prefix(db, kMetaPrefix, [&](std::string_view record, std::string_view value) {
        std::string key(record.substr(kMetaPrefix.size()));
        const std::optional<EntryMeta> meta = decode_entry_meta(value);
        if (!meta || meta->body_id == 0 || by_body.contains(meta->body_id)) {
          del.remove(record);
          sweep = true;
          ++counters_.corrupt_erased;
          return;
        }
        max_body_id = std::max(max_body_id, meta->body_id);
        const std::uint64_t charged =
            charged_bytes(key.size(), meta->body_size, value.size(), chunk_bytes_);
        auto [it, _] =
            loaded.emplace(key, Loaded{key, {charged, meta->body_id, meta->body_size}, 0, {}});
        by_body.emplace(meta->body_id, &it->second);
      });

  // Use records: recency. One no meta names is left over from a lost meta.
  if (s.ok())
    s = scan_prefix(db, kUsePrefix, [&](std::string_view record, std::string_view value) {
      auto found = by_body.find(record_body_id(record));
      if (record.size() != kUsePrefix.size() + kBodyIdBytes || found == by_body.end() ||
          !parse_use_value(value, &found->second->last_use, &found->second->rank)) {
        del.remove(record);
        return;
      }
      max_use = std::max(max_use, found->second->last_use);
    });

  // Intents: inserts that never committed. Their chunks go, unless a meta names the body.
  leveldb::Status chunks_status;
  if (s.ok())
    s = scan_prefix(db, kIntentPrefix, [&](std::string_view record, std::string_view) {
      del.remove(record);
      std::uint64_t body_id = 0;
      if (!get_big_endian64(record.substr(kIntentPrefix.size()), &body_id)) return;
      max_body_id = std::max(max_body_id, body_id);
      if (by_body.contains(body_id) || !chunks_status.ok()) return;
      chunks_status = scan_prefix(db, body_prefix(body_id), [&](std::string_view chunk,
                                                                std::string_view) {
        if (chunk.size() == kBodyPrefix.size() + kBodyIdBytes + kChunkIndexBytes)
          del.remove(chunk);
      });
    });
  if (s.ok()) s = chunks_status;

  // A lost meta took the name of its body with it: only a scan of every chunk key finds the
  // chunks no meta names. It reads every body, so it runs only when a meta was lost.
  std::string orphans;
  const leveldb::Status orphans_status = db->Get(checked_reads(), to_slice(kOrphansKey), &orphans);
  if (!orphans_status.IsNotFound()) sweep = true;
  if (s.ok() && sweep) {
    s = scan_prefix(db, kBodyPrefix, [&](std::string_view record, std::string_view) {
      const std::uint64_t body_id = record_body_id(record);
      max_body_id = std::max(max_body_id, body_id);
      if (!by_body.contains(body_id)) del.remove(record);
    });
    del.remove(kOrphansKey);
  }
  del.flush();
  if (s.ok()) s = del.status();
  if (!s.ok()) {
    *error = fmt::format("cannot load cache store: {}", s.ToString());
    return false;
  }

  // Insert least recently used first, so the index ends in the order of last use.
  std::vector<const Loaded*> order;
  order.reserve(loaded.size());
  for (const auto& [key, l] : loaded) order.push_back(&l);
  std::sort(order.begin(), order.end(), [](const Loaded* a, const Loaded* b) {
    return a->last_use != b->last_use ? a->last_use < b->last_use : a->key < b->key;
  });
  // Taken, not just read: after a crash the next open finds no state to load.
  std::optional<std::string> policy_state = take_policy_state_file(state_path_);
  if (!policy_state) {
    // Stores written before the state moved to a file keep it under a key.
    leveldb::ReadOptions ro = checked_reads();
    ro.fill_cache = false;  // one large block: it would push everything else out
    std::string legacy;
    if (db_->Get(ro, to_slice(kPolicyStateKey), &legacy).ok()) {
      policy_state = std::move(legacy);
      (void)db_->Delete(leveldb::WriteOptions(), to_slice(kPolicyStateKey));
    }
  }
  std::lock_guard lock(mutex_);
  // A missing or unreadable state only loses the policy's history, never an entry.
  if (policy_state) index_->load_state(*policy_state);
  for (const Loaded* l : order) index_->restore(l->key, l->entry, l->rank);
  next_use_ = max_use + 1;
  next_body_id_ = std::max(next_body_id_, max_body_id + 1);
  evict_locked();  // the budget may have shrunk since the last run
  return true;
}

std::uint64_t Engine::allocate_body_id() {
  std::lock_guard lock(mutex_);
  if (next_body_id_ >= body_id_limit_) {
    // Written before any chunk of the new ids; LevelDB applies writes in order, so no crash
    // can keep a chunk of an id whose reservation it lost. A failed write only means the
    // reservation is retried on the next insert; the chunk writes would fail as well.
    const std::uint64_t limit = next_body_id_ + kBodyIdReserve;
    if (db_->Put(leveldb::WriteOptions(), to_slice(kBodyIdLimitKey), fixed64(limit)).ok())
      body_id_limit_ = limit;
  }
  return next_body_id_++;
}

// ---- Engine: reads ----

std::optional<EntryMeta> Engine::lookup(std::string_view key, Store::CountUse count) {
  const bool counted = count == Store::CountUse::yes;
  {
    // As quick_miss, waiting for the lock: a key the index does not list has no entry, and
    // the database need not be read for it (a table block, for most misses).
    std::lock_guard lock(mutex_);
    if (!index_->find(key)) {
      if (counted) index_->record_miss(key);
      return std::nullopt;
    }
  }
  std::string value;
  const leveldb::Status s = db_->Get(checked_reads(), to_slice(meta_key(key)), &value);
  if (s.IsNotFound()) {
    if (!counted) return std::nullopt;
    std::lock_guard lock(mutex_);
    index_->record_miss(key);
    return std::nullopt;
  }
  std::optional<EntryMeta> meta;
  if (s.ok()) meta = decode_entry_meta(value);
  if (!meta) {
    erase_corrupt_meta(key);
    return std::nullopt;
  }
  if (!counted) return meta;
  std::lock_guard lock(mutex_);
  record_use_locked(key);
  return meta;
}

bool Engine::quick_miss(std::string_view key) {
  // The index lists every committed entry (commits update it under mutex_ with their write),
  // so under the lock an absent key has no entry. The lock is held across LevelDB writes:
  // rather than wait for one, let the caller ask lookup().
  std::unique_lock lock(mutex_, std::try_to_lock);
  if (!lock.owns_lock() || index_->find(key)) return false;
  index_->record_miss(key);
  return true;
}

std::optional<std::string> Engine::read_body(std::string_view key, const EntryMeta& meta,
                                             std::uint64_t offset, std::size_t max_bytes) {
  if (offset > meta.body_size) return std::nullopt;
  // Held until the bytes are read, so no segment an extent in the snapshot names is deleted.
  const std::shared_lock segments_hold = segments_.hold();
  // The snapshot is taken before the index is checked: if the body is still current after
  // the snapshot, every chunk of it is in the snapshot (all are written before the commit
  // that made meta visible), so a missing chunk is damage, not a race.
  const leveldb::Snapshot* snapshot = db_->GetSnapshot();
  struct Release {
    leveldb::DB* db;
    const leveldb::Snapshot* s;
    ~Release() { db->ReleaseSnapshot(s); }
  } release{db_.get(), snapshot};
  {
    std::lock_guard lock(mutex_);
    const std::optional<EvictionEntry> e = index_->find(key);
    if (!e || e->body_id != meta.body_id || e->body_size != meta.body_size) {
      // Released but pinned: its chunks stay until the last pin goes.
      const auto pinned = pinned_.find(meta.body_id);
      if (pinned == pinned_.end() || pinned->second.key != key ||
          pinned->second.body_size != meta.body_size)
        return std::nullopt;
    }
  }
  const std::uint64_t end = offset + std::min<std::uint64_t>(max_bytes, meta.body_size - offset);
  std::string out;
  if (end == offset) return out;
  out.reserve(end - offset);
  leveldb::ReadOptions ro = checked_reads();
  ro.snapshot = snapshot;
  const std::uint64_t chunks = chunk_count(meta.body_size, chunk_bytes_);
  std::string pointer, chunk;
  for (std::uint64_t i = offset / chunk_bytes_; i * chunk_bytes_ < end; ++i) {
    const std::uint64_t chunk_start = i * chunk_bytes_;
    const std::uint64_t expected = i + 1 < chunks ? chunk_bytes_ : meta.body_size - chunk_start;
    const leveldb::Status s = db_->Get(ro, to_slice(chunk_key(meta.body_id, i)), &pointer);
    const std::optional<BodyExtent> extent = s.ok() ? decode_body_extent(pointer) : std::nullopt;
    if (!extent || extent->length != expected || !segments_.read(*extent, &chunk)) {
      erase_corrupt_body(key, meta.body_id);
      return std::nullopt;
    }
    const std::uint64_t from = std::max(offset, chunk_start) - chunk_start;
    const std::uint64_t to = std::min(end, chunk_start + expected) - chunk_start;
    out.append(chunk, from, to - from);
  }
  return out;
}

std::unique_ptr<BodyPin> Engine::pin_body(std::string_view key, const EntryMeta& meta) {
  std::lock_guard lock(mutex_);
  auto pinned = pinned_.find(meta.body_id);
  if (pinned == pinned_.end()) {
    const std::optional<EvictionEntry> e = index_->find(key);
    if (!e || e->body_id != meta.body_id || e->body_size != meta.body_size) return nullptr;
    pinned =
        pinned_.emplace(meta.body_id, Pinned{std::string(key), 0, meta.body_size, false}).first;
  } else if (pinned->second.key != key || pinned->second.body_size != meta.body_size) {
    return nullptr;
  }
  ++pinned->second.pins;
  return std::make_unique<LevelDbPin>(shared_from_this(), meta.body_id);
}

void Engine::unpin_body(std::uint64_t body_id) {
  std::lock_guard lock(mutex_);
  auto pinned = pinned_.find(body_id);
  if (pinned == pinned_.end() || --pinned->second.pins > 0) return;
  if (pinned->second.released) unpinned_.push_back({0, body_id, pinned->second.body_size});
  pinned_.erase(pinned);
}

// ---- Engine: inserts ----

std::unique_ptr<Insert> Engine::begin_insert(std::string key) {
  const std::uint64_t body_id = allocate_body_id();
  return std::make_unique<LevelDbInsert>(shared_from_this(), std::move(key), body_id);
}

bool Engine::write_chunk(std::uint64_t body_id, std::uint32_t index, std::string_view data) {
  const std::optional<BodyExtent> extent = segments_.append(data);
  if (!extent) return false;
  leveldb::WriteBatch batch;
  if (index == 0) batch.Put(to_slice(intent_key(body_id)), leveldb::Slice());
  batch.Put(to_slice(chunk_key(body_id, index)), encode_body_extent(*extent));
  const bool ok = db_->Write(leveldb::WriteOptions(), &batch).ok();
  settle(extent);
  return ok;
}

bool Engine::prepare_commit(PreparedCommit& commit, EntryMeta meta,
                            std::string_view last_chunk,
                            std::optional<std::uint32_t> last_chunk_crc) {
  meta.body_id = commit.body_id;
  commit.encoded_meta = encode_entry_meta(meta);
  commit.entry = EvictionEntry{charged_bytes(commit.key->size(), meta.body_size,
                                             commit.encoded_meta.size(), chunk_bytes_),
                               commit.body_id, meta.body_size};
  if (commit.entry.charged_bytes > budget_bytes_) return false;
  if (!last_chunk.empty() &&
      !(commit.last_extent = segments_.append(last_chunk, last_chunk_crc)))
    return false;
  return true;
}

void Engine::commit_prepared(std::span<PreparedCommit*> commits) {
  std::lock_guard lock(mutex_);
  std::size_t begin = 0;
  while (begin < commits.size()) {
    // A run of distinct keys: each one's previous body is the one the index knows (a key
    // twice in one batch would delete the body its first commit is writing).
    std::size_t end = begin;
    // Batches are a few commits: a linear search beats building a hash set per run.
    auto repeats_a_key = [&](std::size_t at) {
      for (std::size_t i = begin; i < at; ++i)
        if (*commits[i]->key == *commits[at]->key) return true;
      return false;
    };
    leveldb::WriteBatch batch;
    for (; end < commits.size() && !repeats_a_key(end); ++end) {
      PreparedCommit& c = *commits[end];
      c.use = next_use_++;
      if (c.last_extent)
        batch.Put(to_slice(chunk_key(c.body_id, c.written_chunks)),
                  encode_body_extent(*c.last_extent));
      if (c.written_chunks > 0) batch.Delete(to_slice(intent_key(c.body_id)));
      c.previous = index_->find(*c.key);
      if (c.previous) delete_body(batch, *c.previous);
      batch.Put(to_slice(meta_key(*c.key)), c.encoded_meta);
      // Indexed before the write (nothing sees the index until the lock is released), so
      // the use record is written once, with the rank the policy gives the new entry.
      index_->insert(*c.key, c.entry);
      batch.Put(to_slice(use_key(c.body_id)), use_value(c.use, index_->rank(*c.key)));
    }
    const bool written = db_->Write(leveldb::WriteOptions(), &batch).ok();
    for (std::size_t i = begin; i < end; ++i) {
      PreparedCommit& c = *commits[i];
      c.committed = written;
      if (written) {
        // A use the old entry had waiting would be written over the new record.
        pending_uses_.erase(*c.key);
        continue;
      }
      // Nothing reached the database: the index goes back to what it holds.
      index_->erase(*c.key);
      if (c.previous) index_->restore(*c.key, *c.previous, EvictionRank{});
    }
    begin = end;
  }
  // A new entry may be its own victim (a policy that judges it worth less than everything
  // it holds): it was still served to the client that fetched it, and is gone like any
  // evicted entry.
  evict_locked();
  // Each extent is settled once the batch naming it is written, or not.
  for (PreparedCommit* c : commits) settle(c->last_extent);
}

void Engine::discard_insert(std::uint64_t body_id, std::uint32_t written_chunks) {
  if (written_chunks == 0) return;  // nothing reached the database
  leveldb::WriteBatch batch;
  for (std::uint32_t i = 0; i < written_chunks; ++i)
    batch.Delete(to_slice(chunk_key(body_id, i)));
  batch.Delete(to_slice(intent_key(body_id)));
  // Under the lock, so the segment collector cannot put back a chunk record deleted here.
  std::lock_guard lock(mutex_);
  // If this fails, the i/ record stays and the next open deletes the chunks.
  (void)db_->Write(leveldb::WriteOptions(), &batch);
}

// ---- Engine: changes to existing entries ----

bool Engine::update_meta(std::string_view key, const EntryMeta& meta) {
  const std::string encoded = encode_entry_meta(meta);
  std::lock_guard lock(mutex_);
  const std::optional<EvictionEntry> current = index_->find(key);
  // A 304 refreshes the headers of the body the caller looked up; never another body's.
  if (!current || current->body_id != meta.body_id || current->body_size != meta.body_size)
    return false;
  EvictionEntry entry = *current;
  entry.charged_bytes = charged_bytes(key.size(), meta.body_size, encoded.size(), chunk_bytes_);
  if (entry.charged_bytes > budget_bytes_) {
    // Its stale meta must not be served on, and the new one does not fit: drop the entry.
    erase_locked(key);
    return false;
  }
  leveldb::WriteBatch batch;
  batch.Put(to_slice(meta_key(key)), encoded);
  const std::uint64_t use = next_use_++;
  batch.Put(to_slice(use_key(entry.body_id)), use_value(use, {}));
  if (!db_->Write(leveldb::WriteOptions(), &batch).ok()) return false;
  index_->insert(key, entry);
  note_use_locked(key, use);
  evict_locked();
  return true;
}

void Engine::touch(std::string_view key) {
  std::lock_guard lock(mutex_);
  record_use_locked(key);
}

void Engine::touch(std::string_view key, std::uint32_t uses) {
  if (uses == 0) return;
  std::lock_guard lock(mutex_);
  record_use_locked(key, uses);
}

void Engine::erase(std::string_view key) {
  std::lock_guard lock(mutex_);
  erase_locked(key);
}

std::size_t Engine::erase_prefix(std::string_view prefix) {
  std::lock_guard lock(mutex_);
  // The entries are found by their meta records, which make a key visible; erase_locked()
  // then removes each key's use record and body chunks too.
  std::vector<std::string> keys;
  const std::string meta_prefix = meta_key(prefix);
  (void)scan_prefix(db_.get(), meta_prefix, [&](std::string_view record, std::string_view) {
    keys.emplace_back(record.substr(kMetaPrefix.size()));
  });
  std::size_t erased = 0;
  for (const std::string& key : keys) erased += erase_locked(key, true);
  return erased;
}

bool Engine::erase_locked(std::string_view key, bool meta_on_disk) {
  leveldb::WriteBatch batch;
  batch.Delete(to_slice(meta_key(key)));
  delete_unpinned_locked(batch);
  if (const std::optional<EvictionEntry> current = index_->find(key)) {
    delete_body(batch, *current);
  } else if (meta_on_disk) {
    // A meta on disk but not indexed (never on a healthy store): its body is unknown.
    // Without a meta it is never served, and the next open deletes it with every other
    // body no meta names.
    batch.Put(to_slice(kOrphansKey), leveldb::Slice());
  }
  if (!db_->Write(leveldb::WriteOptions(), &batch).ok()) return false;
  index_->erase(key);
  pending_uses_.erase(std::string(key));
  return true;
}

void Engine::erase_corrupt_meta(std::string_view key) {
  std::lock_guard lock(mutex_);
  // Read again under the lock: a commit may have replaced the bad record meanwhile.
  std::string value;
  const leveldb::Status s = db_->Get(checked_reads(), to_slice(meta_key(key)), &value);
  if (s.IsNotFound() || (s.ok() && decode_entry_meta(value))) return;
  if (erase_locked(key, true)) ++counters_.corrupt_erased;
}

void Engine::erase_corrupt_body(std::string_view key, std::uint64_t body_id) {
  std::lock_guard lock(mutex_);
  const std::optional<EvictionEntry> current = index_->find(key);
  // Replaced or erased meanwhile: the damaged body is no longer the entry's.
  if (!current || current->body_id != body_id) return;
  if (erase_locked(key)) ++counters_.corrupt_erased;
}

void Engine::delete_body(leveldb::WriteBatch& batch, const EvictionEntry& entry) {
  batch.Delete(to_slice(use_key(entry.body_id)));
  if (auto pinned = pinned_.find(entry.body_id); pinned != pinned_.end()) {
    pinned->second.released = true;
    batch.Put(to_slice(intent_key(entry.body_id)), leveldb::Slice());
    return;
  }
  const std::uint64_t chunks = chunk_count(entry.body_size, chunk_bytes_);
  for (std::uint64_t i = 0; i < chunks; ++i)
    batch.Delete(to_slice(chunk_key(entry.body_id, i)));
}

void Engine::delete_unpinned_locked(leveldb::WriteBatch& batch) {
  for (const EvictionEntry& body : unpinned_) {
    const std::uint64_t chunks = chunk_count(body.body_size, chunk_bytes_);
    for (std::uint64_t i = 0; i < chunks; ++i)
      batch.Delete(to_slice(chunk_key(body.body_id, i)));
    batch.Delete(to_slice(intent_key(body.body_id)));
  }
  // If the write fails, the i/ records stay and the next open deletes the chunks.
  unpinned_.clear();
}

// ---- Engine: recency and eviction ----

void Engine::record_use_locked(std::string_view key, std::uint32_t uses) {
  if (!(uses == 1 ? index_->touch(key) : index_->touch(key, uses))) return;
  note_use_locked(key, next_use_++);
}

void Engine::note_use_locked(std::string_view key, std::uint64_t use) {
  pending_uses_.insert_or_assign(std::string(key), use);
  // Bounded: a run of stores without hits would otherwise keep one waiting key per entry.
  if (pending_uses_.size() >= kUseFlushCount) flush_uses_locked();
}

void Engine::flush_uses_locked() {
  if (pending_uses_.empty()) return;
  leveldb::WriteBatch batch;
  for (const auto& [key, use] : pending_uses_) {
    const std::optional<EvictionEntry> entry = index_->find(key);
    if (entry) batch.Put(to_slice(use_key(entry->body_id)), use_value(use, index_->rank(key)));
  }
  // Recency is advisory: if this write fails the order after a restart is a little older.
  (void)db_->Write(leveldb::WriteOptions(), &batch);
  pending_uses_.clear();
}

void Engine::set_budget(std::uint64_t bytes) {
  std::lock_guard lock(mutex_);
  budget_bytes_ = bytes;
  evict_locked();
}

void Engine::evict_locked() {
  leveldb::WriteBatch batch;
  // Bodies whose last pin went since the last write go with this one.
  bool any = !unpinned_.empty();
  delete_unpinned_locked(batch);
  while (index_->total_bytes() > budget_bytes_) {
    std::optional<EvictionVictim> victim = index_->pop_victim();
    if (!victim) break;
    batch.Delete(to_slice(meta_key(victim->key)));
    delete_body(batch, victim->entry);
    pending_uses_.erase(victim->key);
    ++counters_.evictions;
    counters_.evicted_bytes += victim->entry.charged_bytes;
    any = true;
  }
  // If this fails the victims stay on disk uncounted until the next open reloads them.
  if (any) (void)db_->Write(leveldb::WriteOptions(), &batch);
  // Evicted bodies are garbage in the segments: collect now rather than within a second,
  // so a burst of misses cannot run far past the disk allowance.
  if (any && collection_due(index_->total_bytes())) collector_wake_.notify_one();
}

// ---- Engine: segment collection ----

void Engine::collector_loop() {
  become_background_thread("cp-seg-collect");
  // After a pass that found nothing worth collecting, the next waits until the files have
  // grown by a segment: every pass scans all the chunk records.
  std::uint64_t fruitless_at = 0;
  std::unique_lock lock(collector_mutex_);
  while (!stopping_) {
    collector_wake_.wait_for(lock, std::chrono::seconds(1));
    if (stopping_) break;
    lock.unlock();
    while (!stopping_ && collection_due()) {
      const std::uint64_t total = segments_.total_bytes();
      if (fruitless_at != 0 && total < fruitless_at + segments_.segment_bytes()) break;
      if (!collect_segments()) {
        fruitless_at = total;
        break;
      }
      fruitless_at = 0;
    }
    lock.lock();
  }
}

bool Engine::collection_due() {
  std::uint64_t live = 0;
  {
    std::lock_guard lock(mutex_);
    live = index_->total_bytes();
  }
  return collection_due(live);
}

bool Engine::collection_due(std::uint64_t live) const {
  return cache::collection_due(segments_.total_bytes(), live, segments_.segment_bytes());
}

bool Engine::collect_segments() {
  // Listed before the scan: a segment sealed with nothing unsettled by now has every record
  // that points into it written, so the scan's snapshot sees them all.
  std::unordered_map<std::uint32_t, SealedSegment> collectable;
  for (const SegmentInfo& info : segments_.list())
    if (info.sealed && info.unsettled == 0)
      collectable.emplace(info.number, SealedSegment{info.number, info.bytes, 0});
  if (collectable.empty()) {
    // Only the active segment holds garbage: seal it, so the next pass can collect it.
    return segments_.roll();
  }
  leveldb::ReadOptions ro = checked_reads();
  ro.fill_cache = false;
  std::unique_ptr<leveldb::Iterator> it(db_->NewIterator(ro));
  const leveldb::Slice body_prefix_slice = to_slice(kBodyPrefix);
  for (it->Seek(body_prefix_slice); it->Valid() && it->key().starts_with(body_prefix_slice);
       it->Next()) {
    const std::optional<BodyExtent> e = decode_body_extent(to_view(it->value()));
    if (!e) continue;
    if (auto c = collectable.find(e->segment); c != collectable.end()) c->second.live += e->length;
  }
  if (!it->status().ok()) return false;
  it.reset();

  std::vector<SealedSegment> sealed;
  sealed.reserve(collectable.size());
  for (const auto& [number, segment] : collectable) sealed.push_back(segment);
  std::uint64_t live = 0;
  {
    std::lock_guard lock(mutex_);
    live = index_->total_bytes();
  }
  const CollectionPlan plan =
      plan_collection(std::move(sealed), segments_.total_bytes(), live, segments_.segment_bytes());
  for (std::uint32_t number : plan.remove) segments_.remove(number);
  if (!plan.remove.empty()) {
    std::lock_guard lock(mutex_);
    counters_.segments_collected += plan.remove.size();
  }
  if (plan.copy.empty()) return !plan.remove.empty();
  const std::unordered_set<std::uint32_t> victims(plan.copy.begin(), plan.copy.end());

  // The victims' records, found again by a second scan (holding every segment's records at
  // once would cost memory in proportion to the whole store).
  std::vector<std::pair<std::string, BodyExtent>> records;
  it.reset(db_->NewIterator(ro));
  for (it->Seek(body_prefix_slice); it->Valid() && it->key().starts_with(body_prefix_slice);
       it->Next()) {
    const std::optional<BodyExtent> e = decode_body_extent(to_view(it->value()));
    if (e && victims.contains(e->segment))
      records.emplace_back(std::string(to_view(it->key())), *e);
  }
  if (!it->status().ok()) return false;
  it.reset();
  std::vector<std::pair<std::string, BodyExtent>> batch;
  std::uint64_t batch_bytes = 0;
  for (auto& record : records) {
    if (stopping_) return false;
    batch_bytes += record.second.length;
    batch.push_back(std::move(record));
    if (batch.size() >= kCollectBatchRecords || batch_bytes >= kCollectBatchBytes) {
      if (!move_extents(batch)) return false;
      batch.clear();
      batch_bytes = 0;
    }
  }
  if (!move_extents(batch)) return false;
  for (std::uint32_t number : victims) segments_.remove(number);
  std::lock_guard lock(mutex_);
  counters_.segments_collected += victims.size();
  return true;
}

bool Engine::move_extents(const std::vector<std::pair<std::string, BodyExtent>>& records) {
  std::vector<std::optional<BodyExtent>> copies;
  copies.reserve(records.size());
  std::string bytes;
  for (const auto& [record, extent] : records) {
    // A damaged extent is not copied (a new CRC would make it look whole): its record keeps
    // pointing into the deleted segment, and the read that finds that erases the entry.
    if (!segments_.read(extent, &bytes)) {
      copies.emplace_back();
      continue;
    }
    copies.push_back(segments_.append(bytes));
    if (!copies.back()) {
      for (const auto& c : copies) settle(c);
      return false;
    }
  }
  bool ok = true;
  {
    std::lock_guard lock(mutex_);
    leveldb::WriteBatch batch;
    std::string current;
    for (std::size_t i = 0; i < records.size(); ++i) {
      if (!copies[i]) continue;
      // Deleted or rewritten since the scan: the copy is garbage in its turn.
      if (!db_->Get(checked_reads(), to_slice(records[i].first), &current).ok() ||
          current != encode_body_extent(records[i].second))
        continue;
      batch.Put(to_slice(records[i].first), encode_body_extent(*copies[i]));
    }
    ok = db_->Write(leveldb::WriteOptions(), &batch).ok();
    if (ok)
      for (std::size_t i = 0; i < records.size(); ++i)
        if (copies[i]) counters_.collected_bytes_copied += records[i].second.length;
  }
  for (const auto& c : copies) settle(c);
  return ok;
}

StoreUsage Engine::usage() const {
  std::lock_guard lock(mutex_);
  return {index_->total_bytes(), index_->entries(), segments_.total_bytes()};
}

StoreCounters Engine::counters() const {
  std::lock_guard lock(mutex_);
  return counters_;
}

}  // namespace

std::unique_ptr<Store> open_leveldb_store(const LevelDbStoreOptions& options, std::string* error) {
  if (options.chunk_bytes == 0 || options.chunk_bytes > kMaxChunkBytes) {
    *error = fmt::format("cache store chunk size {} out of range", options.chunk_bytes);
    return nullptr;
  }
  std::unique_ptr<EvictionPolicy> policy =
      make_eviction_policy(options.eviction_policy, options.budget_bytes);
  if (!policy) {
    *error = fmt::format("unknown cache eviction policy \"{}\"", options.eviction_policy);
    return nullptr;
  }
  auto engine = std::make_shared<Engine>(options, std::move(policy));
  if (!engine->open(options, error)) return nullptr;
  return std::make_unique<LevelDbStore>(std::move(engine));
}

bool abandon_insert_for_testing(Insert& insert) {
  auto* leveldb_insert = dynamic_cast<LevelDbInsert*>(&insert);
  if (!leveldb_insert) return false;
  leveldb_insert->abandon();
  return true;
}

}  // namespace cacheproxy::cache
