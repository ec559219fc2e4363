// pread_env (cache/pread_env.hpp): table files read with pread return the bytes a mapping
// would, short at the end of the file, NotFound for a missing file; and a LevelDB using it
// reads its tables back without mapping any of them.
#include "cache/pread_env.hpp"

#include <leveldb/db.h>
#include <leveldb/options.h>
#include <leveldb/slice.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include "temp_dir.hpp"

using cacheproxy::cache::pread_env;
using cacheproxy::cache::testing::TempDir;

namespace {

std::string pattern(std::size_t size) {
  std::string out(size, '\0');
  for (std::size_t i = 0; i < size; ++i) out[i] = static_cast<char>((i * 131) ^ (i >> 8));
  return out;
}

std::string read_at(leveldb::RandomAccessFile& file, std::uint64_t offset, std::size_t n) {
  std::string scratch(n, '\0');
  leveldb::Slice result;
  REQUIRE(file.Read(offset, n, &result, scratch.data()).ok());
  return result.ToString();
}

// The lines of /proc/self/maps naming a file under dir.
std::string mappings_under(const std::string& dir) {
  std::ifstream maps("/proc/self/maps");
  std::string line, found;
  while (std::getline(maps, line))
    if (line.find(dir) != std::string::npos) found += line + "\n";
  return found;
}

}  // namespace

TEST_CASE("pread_env reads a file's bytes by offset, short at its end") {
  TempDir dir;
  const std::string name = dir.path() + "/file";
  const std::string content = pattern(100'000);
  std::ofstream(name, std::ios::binary) << content;

  leveldb::RandomAccessFile* raw = nullptr;
  REQUIRE(pread_env()->NewRandomAccessFile(name, &raw).ok());
  std::unique_ptr<leveldb::RandomAccessFile> file(raw);
  CHECK(read_at(*file, 0, 10) == content.substr(0, 10));
  CHECK(read_at(*file, 4093, 70'000) == content.substr(4093, 70'000));
  CHECK(read_at(*file, 99'990, 100) == content.substr(99'990));  // short: 10 bytes
  CHECK(read_at(*file, 100'000, 16).empty());
  CHECK(read_at(*file, 200'000, 16).empty());
}

TEST_CASE("pread_env reports a missing file as NotFound") {
  TempDir dir;
  leveldb::RandomAccessFile* file = nullptr;
  const leveldb::Status s = pread_env()->NewRandomAccessFile(dir.path() + "/absent", &file);
  CHECK(s.IsNotFound());
  CHECK(file == nullptr);
}

TEST_CASE("a LevelDB on pread_env reads its tables back without mapping them") {
  TempDir dir;
  leveldb::Options options;
  options.create_if_missing = true;
  options.paranoid_checks = true;
  options.env = pread_env();
  options.write_buffer_size = 64 << 10;  // several tables from a few hundred KiB
  leveldb::DB* raw = nullptr;
  REQUIRE(leveldb::DB::Open(options, dir.path(), &raw).ok());
  std::unique_ptr<leveldb::DB> db(raw);

  constexpr int kKeys = 2000;
  auto key = [](int i) { return "key/" + std::to_string(i * 7919 % kKeys); };
  auto value = [](int i) { return pattern(100 + i % 900) + std::to_string(i); };
  for (int i = 0; i < kKeys; ++i) REQUIRE(db->Put({}, key(i), value(i)).ok());
  db->CompactRange(nullptr, nullptr);  // everything in tables, read by the compaction
  int tables = 0;
  for (const auto& f : std::filesystem::directory_iterator(dir.path()))
    tables += f.path().extension() == ".ldb";
  REQUIRE(tables > 0);

  leveldb::ReadOptions checked;
  checked.verify_checksums = true;
  for (int i = 0; i < kKeys; ++i) {
    std::string got;
    REQUIRE(db->Get(checked, key(i), &got).ok());
    REQUIRE(got == value(i));
  }
  std::unique_ptr<leveldb::Iterator> it(db->NewIterator(checked));
  int seen = 0;
  for (it->SeekToFirst(); it->Valid(); it->Next()) ++seen;
  CHECK(it->status().ok());
  CHECK(seen == kKeys);
  // The default Env would have mapped every table it read.
  CHECK(mappings_under(dir.path()).empty());
}
