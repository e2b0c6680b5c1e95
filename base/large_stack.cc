#include "base/large_stack.h"

#include <pthread.h>

#include <exception>

namespace seg {
namespace {

struct ThreadCall {
  const std::function<void()>* work;
  std::exception_ptr error;
};

void* threadMain(void* arg) {
  auto* call = static_cast<ThreadCall*>(arg);
  try {
    (*call->work)();
  } catch (...) {
    call->error = std::current_exception();
  }
  return nullptr;
}

}  // namespace

void runWithLargeStack(const std::function<void()>& work, std::size_t stackBytes) {
  ThreadCall call{&work, nullptr};
  pthread_attr_t attr;
  pthread_t thread;
  bool started = false;
  if (pthread_attr_init(&attr) == 0) {
    started = pthread_attr_setstacksize(&attr, stackBytes) == 0 &&
              pthread_create(&thread, &attr, &threadMain, &call) == 0;
    pthread_attr_destroy(&attr);
  }
  if (!started) {
    work();
    return;
  }
  pthread_join(thread, nullptr);
  if (call.error) std::rethrow_exception(call.error);
}

}  // namespace seg
