// What makes a thread a background thread: the storage threads (group commit, LevelDB's
// compactions, segment writes and collection, the access log's writer) carry a name that
// `top -H` and /proc show, and run below the network threads. On a saturated core the
// scheduler would otherwise give them an equal share: the store's work on every miss then
// took the network thread's CPU time, and a slice of milliseconds given to a storage thread
// held up every client of the network thread meanwhile. Below them, storage takes what the
// network threads leave and about a quarter of a core they want whole; a store that falls
// behind skips new entries (background_commit) instead of slowing clients.
#pragma once

namespace cacheproxy::cache {

// How far above the process's nice value (its main thread's) background threads run: the
// scheduler weighs nice 5 at about a third of nice 0, so a contended core gives storage
// about a quarter of its time.
inline constexpr int kBackgroundNiceIncrement = 5;

// Names the calling thread (at most 15 characters are kept) and sets its nice value to the
// process's plus kBackgroundNiceIncrement (at most 19). Idempotent, and a thread started by
// a background thread lands at the same value rather than lower still. Linux applies nice
// per thread; where either step fails the thread goes on as it was.
void become_background_thread(const char* name);

}  // namespace cacheproxy::cache
