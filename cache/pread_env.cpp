#include "cache/pread_env.hpp"

#include <fcntl.h>
#include <leveldb/slice.h>
#include <leveldb/status.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <string>
#include <utility>

#include "cache/background_thread.hpp"

namespace cacheproxy::cache {
namespace {

leveldb::Status io_error(const std::string& context, int error_number) {
  if (error_number == ENOENT)
    return leveldb::Status::NotFound(context, std::strerror(error_number));
  return leveldb::Status::IOError(context, std::strerror(error_number));
}

// One open descriptor per table; LevelDB's table cache (max_open_files) bounds how many are
// open at once. pread has no shared file position, so concurrent reads need no lock.
class PreadFile final : public leveldb::RandomAccessFile {
 public:
  PreadFile(std::string name, int fd) : name_(std::move(name)), fd_(fd) {}
  ~PreadFile() override { ::close(fd_); }

  leveldb::Status Read(std::uint64_t offset, std::size_t n, leveldb::Slice* result,
                       char* scratch) const override {
    std::size_t got = 0;
    while (got < n) {
      const ssize_t r = ::pread(fd_, scratch + got, n - got, static_cast<off_t>(offset + got));
      if (r < 0) {
        if (errno == EINTR) continue;
        *result = leveldb::Slice(scratch, 0);
        return io_error(name_, errno);
      }
      if (r == 0) break;  // end of file: a short read, as LevelDB expects
      got += static_cast<std::size_t>(r);
    }
    *result = leveldb::Slice(scratch, got);
    return leveldb::Status::OK();
  }

 private:
  const std::string name_;
  const int fd_;
};

class PreadEnv final : public leveldb::EnvWrapper {
 public:
  PreadEnv() : leveldb::EnvWrapper(leveldb::Env::Default()) {}

  leveldb::Status NewRandomAccessFile(const std::string& name,
                                      leveldb::RandomAccessFile** result) override {
    *result = nullptr;
    const int fd = ::open(name.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return io_error(name, errno);
    *result = new PreadFile(name, fd);
    return leveldb::Status::OK();
  }

  // LevelDB's compactions run in the thread behind Schedule: below the network threads.
  void Schedule(void (*function)(void*), void* arg) override {
    target()->Schedule(&run_lowered, new Job{function, arg});
  }

 private:
  struct Job {
    void (*function)(void*);
    void* arg;
  };

  static void run_lowered(void* p) {
    const Job job = *static_cast<Job*>(p);
    delete static_cast<Job*>(p);
    become_background_thread("cp-leveldb");
    job.function(job.arg);
  }
};

}  // namespace

leveldb::Env* pread_env() {
  static PreadEnv* const env = new PreadEnv();
  return env;
}

}  // namespace cacheproxy::cache
