// What makes a thread a background thread: the storage threads (group commit, LevelDB's
// compactions, segment writes and collection, the access log's writer) carry a name that
// `top -H` and /proc show, and run below the network threads (the `storage_nice` setting).
// On a saturated core the scheduler would otherwise give them an equal share: the store's
// work on every miss then came out of the network thread's CPU time. Below them, storage
// takes what the network threads leave and a bounded share of a core they want whole; a
// store that falls behind skips new entries (background_commit) instead of slowing clients.
#pragma once

namespace cacheproxy::cache {

// How far above the process's nice value (its main thread's) background threads run unless
// set_background_nice() says otherwise. The scheduler weighs nice 5 at about a third of
// nice 0, so a contended core gives storage about a quarter of its time.
inline constexpr int kDefaultBackgroundNice = 5;

// Sets the increment for threads that become background threads from now on (0-19; others
// are clamped). Threads already lowered keep their value.
void set_background_nice(int increment);
int background_nice();

// Names the calling thread (at most 15 characters are kept) and sets its nice value to the
// process's plus background_nice() (at most 19). Idempotent, and a thread started by a
// background thread lands at the same value rather than lower still. Linux applies nice per
// thread; where either step fails the thread goes on as it was.
void become_background_thread(const char* name);

}  // namespace cacheproxy::cache
