// Memory for a connection's asynchronous operations, one at a time (Asio's "custom memory
// allocation" example). A client connection's wait before each request (yield_turn) and its
// read of the request take their operation from here. Asio's own cache keeps eight blocks per
// thread, and with 128 connections 128 reads are pending at once, so nearly every read's
// operation came from malloc and went back to it; each connection's block is its own.
#pragma once

#include <cstddef>
#include <new>

namespace cacheproxy {

class HandlerMemory {
 public:
  HandlerMemory() = default;
  HandlerMemory(const HandlerMemory&) = delete;
  HandlerMemory& operator=(const HandlerMemory&) = delete;

  // The block when it is free and large enough, else operator new: an operation started
  // while another holds the block still gets memory.
  void* allocate(std::size_t size) {
    if (!in_use_ && size <= sizeof(storage_)) {
      in_use_ = true;
      return storage_;
    }
    return ::operator new(size);
  }
  // Whether an operation holds the block now.
  bool in_use() const { return in_use_; }
  void deallocate(void* pointer) {
    if (pointer == storage_) {
      in_use_ = false;
    } else {
      ::operator delete(pointer);
    }
  }

 private:
  // A read operation on a socket takes 240 bytes, a posted turn less.
  alignas(std::max_align_t) unsigned char storage_[256];
  bool in_use_ = false;
};

// The allocator operations are bound with (boost::asio::bind_allocator): from `memory`, or
// operator new and delete when it is null. Deliberately not std::allocator, which Asio serves
// from the thread's shared cache.
template <class T>
class HandlerAllocator {
 public:
  using value_type = T;
  explicit HandlerAllocator(HandlerMemory* memory = nullptr) noexcept : memory_(memory) {}
  template <class U>
  HandlerAllocator(const HandlerAllocator<U>& other) noexcept : memory_(other.memory_) {}

  T* allocate(std::size_t n) {
    const std::size_t bytes = n * sizeof(T);
    return static_cast<T*>(memory_ ? memory_->allocate(bytes) : ::operator new(bytes));
  }
  void deallocate(T* pointer, std::size_t) noexcept {
    if (memory_) {
      memory_->deallocate(pointer);
    } else {
      ::operator delete(pointer);
    }
  }
  template <class U>
  bool operator==(const HandlerAllocator<U>& other) const noexcept {
    return memory_ == other.memory_;
  }

 private:
  template <class>
  friend class HandlerAllocator;
  HandlerMemory* memory_;
};

}  // namespace cacheproxy
