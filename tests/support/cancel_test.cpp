#include "support/cancel.h"

#include <catch2/catch.hpp>
#include <thread>

using namespace astfill;
using namespace std::chrono_literals;

TEST_CASE("a default token is never cancelled", "[cancel]") {
  CancellationToken t;
  CHECK_FALSE(t.cancelled());
  CHECK(t.reason() == CancelReason::None);
  CHECK(t.wait_for(1ms));
}

TEST_CASE("the first cancellation reason wins", "[cancel]") {
  CancellationSource s;
  auto t = s.token();
  CHECK_FALSE(t.cancelled());
  CHECK(s.cancel(CancelReason::Superseded));
  CHECK_FALSE(s.cancel(CancelReason::ClientRequest));
  CHECK(t.cancelled());
  CHECK(t.reason() == CancelReason::Superseded);
  CHECK(std::string(to_string(t.reason())).find("superseded") != std::string::npos);
}

TEST_CASE("waiting on a token wakes as soon as it is cancelled", "[cancel]") {
  CancellationSource s;
  auto t = s.token();
  auto start = std::chrono::steady_clock::now();
  std::thread canceller([&] {
    std::this_thread::sleep_for(20ms);
    s.cancel(CancelReason::ClientRequest);
  });
  bool completed = t.wait_for(10s);
  canceller.join();
  CHECK_FALSE(completed);
  CHECK(std::chrono::steady_clock::now() - start < 5s);
}

TEST_CASE("an uncancelled wait runs its full time", "[cancel]") {
  CancellationSource s;
  auto start = std::chrono::steady_clock::now();
  CHECK(s.token().wait_for(30ms));
  CHECK(std::chrono::steady_clock::now() - start >= 30ms);
}

TEST_CASE("a token's flag turns non-zero when it is cancelled", "[cancel]") {
  CHECK(CancellationToken().flag() == nullptr);  // never cancelled: nothing to poll
  CancellationSource s;
  const std::atomic<size_t>* flag = s.token().flag();
  REQUIRE(flag != nullptr);
  CHECK(flag == s.token().flag());
  CHECK(flag->load() == 0);
  s.cancel(CancelReason::ContentModified);
  CHECK(flag->load() != 0);
  s.cancel(CancelReason::Shutdown);  // later reasons change nothing
  CHECK(s.token().reason() == CancelReason::ContentModified);
}
