#include "cache/header_fields.hpp"

#include <cstdint>
#include <functional>
#include <vector>

namespace cacheproxy {

namespace {

// Blocks kept for reuse per thread: about the requests a thread handles at once. Beyond it a
// block goes back to the heap, so a burst does not keep its memory.
constexpr std::size_t kPooledBlocks = 256;

class BlockPool {
 public:
  BlockPool() { free_.reserve(kPooledBlocks); }
  BlockPool(const BlockPool&) = delete;
  BlockPool& operator=(const BlockPool&) = delete;
  ~BlockPool() {
    for (std::byte* block : free_) release(block);
  }

  std::byte* take() {
    if (free_.empty()) {
      return static_cast<std::byte*>(::operator new(
          FieldsArena::kBlockBytes, std::align_val_t{alignof(std::max_align_t)}));
    }
    std::byte* block = free_.back();
    free_.pop_back();
    return block;
  }

  void give(std::byte* block) {
    if (free_.size() < kPooledBlocks) {
      free_.push_back(block);
    } else {
      release(block);
    }
  }

 private:
  static void release(std::byte* block) {
    ::operator delete(block, std::align_val_t{alignof(std::max_align_t)});
  }

  std::vector<std::byte*> free_;
};

BlockPool& thread_pool() {
  thread_local BlockPool pool;
  return pool;
}

}  // namespace

FieldsArena::~FieldsArena() {
  // Every request's fields are gone before their connection; a block still lent would be
  // in use by fields that outlived it, so it is left to them rather than reused.
  if (block_ && live_ == 0) thread_pool().give(block_);
}

void* FieldsArena::allocate(std::size_t bytes, std::size_t alignment) {
  if (!block_) {
    if (bytes > kBlockBytes) return ::operator new(bytes);
    block_ = thread_pool().take();
    used_ = 0;
  }
  const std::size_t at = (used_ + alignment - 1) / alignment * alignment;
  if (at + bytes > kBlockBytes) return ::operator new(bytes);
  used_ = at + bytes;
  ++live_;
  return block_ + at;
}

void FieldsArena::deallocate(void* pointer, std::size_t) noexcept {
  if (!owns(pointer)) {
    ::operator delete(pointer);
    return;
  }
  if (--live_ > 0) return;
  // The request's fields are all gone: the block goes back for the next request on this
  // thread, on any connection.
  thread_pool().give(block_);
  block_ = nullptr;
  used_ = 0;
}

bool FieldsArena::owns(const void* pointer) const {
  if (!block_) return false;
  // std::less gives a total order over pointers into different objects.
  const std::less<const void*> before;
  return !before(pointer, block_) && before(pointer, block_ + kBlockBytes);
}

}  // namespace cacheproxy
