// The header fields of every HTTP message the proxy handles, and where a client request's
// fields live. Beast's parser allocates the request target and each header field on its own:
// two to twenty small blocks for every request, memory hits included. A connection's parser
// takes them instead from a block its thread lends while the request is being handled
// (FieldsArena); every other message's fields use operator new, as std::allocator would.
#pragma once

#include <boost/beast/http/fields.hpp>
#include <cstddef>
#include <new>
#include <type_traits>

namespace cacheproxy {

// Lends memory for one request's fields at a time. The first allocation takes a block from a
// small per-thread pool, later ones are carved from it, and the block goes back to the pool
// when the last is freed: an idle connection holds none, and the pool holds about one block
// per request being handled on the thread. What does not fit in the block comes from
// operator new. Used from one thread only (the connection's).
class FieldsArena {
 public:
  static constexpr std::size_t kBlockBytes = 2048;

  FieldsArena() = default;
  FieldsArena(const FieldsArena&) = delete;
  FieldsArena& operator=(const FieldsArena&) = delete;
  ~FieldsArena();

  void* allocate(std::size_t bytes, std::size_t alignment);
  void deallocate(void* pointer, std::size_t bytes) noexcept;

  // Whether a block is lent to this arena now, and whether `pointer` is in it (tests).
  bool holds_block() const { return block_ != nullptr; }
  bool owns(const void* pointer) const;

 private:
  std::byte* block_ = nullptr;
  std::size_t used_ = 0;  // bytes of block_ handed out, in order
  std::size_t live_ = 0;  // allocations in block_ not yet freed
};

// Memory from a FieldsArena, or operator new without one. A copy of fields made from a
// request's (a background revalidation keeps one) uses operator new: it may outlive the
// connection. Moving fields moves the arena with them, so a request's fields are never moved
// out of their parser.
template <class T>
class FieldsAllocator {
 public:
  using value_type = T;
  using propagate_on_container_copy_assignment = std::false_type;
  using propagate_on_container_move_assignment = std::false_type;
  using propagate_on_container_swap = std::false_type;
  using is_always_equal = std::false_type;

  FieldsAllocator() noexcept = default;
  explicit FieldsAllocator(FieldsArena* arena) noexcept : arena_(arena) {}
  template <class U>
  FieldsAllocator(const FieldsAllocator<U>& other) noexcept : arena_(other.arena_) {}

  T* allocate(std::size_t n) {
    const std::size_t bytes = n * sizeof(T);
    if (arena_) return static_cast<T*>(arena_->allocate(bytes, alignof(T)));
    return static_cast<T*>(::operator new(bytes));
  }
  void deallocate(T* pointer, std::size_t n) noexcept {
    if (arena_) {
      arena_->deallocate(pointer, n * sizeof(T));
    } else {
      ::operator delete(pointer);
    }
  }

  FieldsAllocator select_on_container_copy_construction() const noexcept { return {}; }

  template <class U>
  bool operator==(const FieldsAllocator<U>& other) const noexcept {
    return arena_ == other.arena_;
  }

 private:
  template <class>
  friend class FieldsAllocator;
  FieldsArena* arena_ = nullptr;
};

using Fields = boost::beast::http::basic_fields<FieldsAllocator<char>>;

}  // namespace cacheproxy
