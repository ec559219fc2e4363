#include "cache/background_thread.hpp"

#include <pthread.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>

namespace cacheproxy::cache {

namespace {
std::atomic<int> nice_increment{kDefaultBackgroundNice};
}  // namespace

void set_background_nice(int increment) { nice_increment = std::clamp(increment, 0, 19); }

int background_nice() { return nice_increment; }

void become_background_thread(const char* name) {
  // The kernel keeps 15 characters and a terminator; a longer name would be refused.
  char short_name[16] = {};
  std::strncpy(short_name, name, sizeof short_name - 1);
  (void)::pthread_setname_np(::pthread_self(), short_name);
  // On Linux, PRIO_PROCESS with the process id names the main thread, and with a thread id
  // that one thread. The main thread is never a background thread: its value is the
  // process's own.
  errno = 0;
  const int process_nice = ::getpriority(PRIO_PROCESS, static_cast<id_t>(::getpid()));
  if (process_nice == -1 && errno != 0) return;
  const int target = std::min(process_nice + background_nice(), 19);
  // Raising one's own nice value needs no privilege; lowering it back (a smaller increment
  // than a parent thread's) may need CAP_SYS_NICE, and without it the thread stays lower.
  (void)::setpriority(PRIO_PROCESS, static_cast<id_t>(::gettid()), target);
}

}  // namespace cacheproxy::cache
