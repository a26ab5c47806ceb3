// Runs blocking calls (synchronous gRPC, file I/O) on a bounded pool of worker threads and
// resumes the calling coroutine on its own executor with the result, so that no network I/O
// thread ever blocks.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include "common/asio.h"

namespace common {

class BlockingPool {
 public:
  explicit BlockingPool(size_t threads);
  ~BlockingPool();
  BlockingPool(const BlockingPool&) = delete;
  BlockingPool& operator=(const BlockingPool&) = delete;

  void Post(std::function<void()> job);
  size_t queued() const;

 private:
  void Loop();
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> jobs_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

namespace internal {

// Everything that crosses into Asio's initiation is a raw pointer: with GCC 12 and Boost 1.74,
// class-type arguments that own heap memory (a std::string inside a lambda, a shared_ptr) were
// seen to be destroyed twice inside use_awaitable's coroutine frames.
template <typename R>
struct RunBlockingInit {
  BlockingPool* pool;
  template <typename Handler, typename Fn>
  void operator()(Handler&& handler, Fn* fn) const {
    using H = std::decay_t<Handler>;
    struct Job {
      H handler;
      std::unique_ptr<Fn> fn;
    };
    auto job = std::make_shared<Job>(Job{std::forward<Handler>(handler), std::unique_ptr<Fn>(fn)});
    pool->Post([job]() {
      auto result = std::make_shared<R>((*job->fn)());
      job->fn.reset();
      auto ex = asio::get_associated_executor(job->handler);
      asio::post(ex, [job, result]() mutable { std::move(job->handler)(std::move(*result)); });
    });
  }
};

}  // namespace internal

// co_await RunBlocking(pool, [&] { return stub->Call(...); });
// Capture only pointers and scalars: with GCC 12 a lambda temporary holding a class-type copy
// (a protobuf message, a std::string) in a co_await expression was seen destroyed twice.
// Not a coroutine itself, and the callable is handed over as a raw pointer (see above).
template <typename F>
auto RunBlocking(BlockingPool* pool, F&& f) {
  using Fn = std::decay_t<F>;
  using R = std::invoke_result_t<Fn&>;
  Fn* fn = new Fn(std::forward<F>(f));
  return asio::async_initiate<decltype(asio::use_awaitable), void(R)>(
      internal::RunBlockingInit<R>{pool}, asio::use_awaitable, fn);
}

}  // namespace common
