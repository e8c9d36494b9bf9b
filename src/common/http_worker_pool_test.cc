#include "common/http_worker_pool.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <filesystem>
#include <fstream>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include "common/thread_name.h"

namespace tessera {
namespace {

std::set<pid_t> TaskIds() {
  std::set<pid_t> ids;
  for (const auto& task : std::filesystem::directory_iterator("/proc/self/task")) {
    ids.insert(std::stoi(task.path().filename().string()));
  }
  return ids;
}

std::string TaskName(pid_t tid) {
  std::ifstream comm("/proc/self/task/" + std::to_string(tid) + "/comm");
  std::string name;
  std::getline(comm, name);
  return name;
}

TEST(HttpWorkerPoolTest, ConnectionsAreServedByThreadsNamedHttp) {
  httplib::Server server;
  server.new_task_queue = [] { return new HttpWorkerPool(2); };
  std::mutex mu;
  std::set<std::string> names;
  server.Get("/name", [&](const httplib::Request&, httplib::Response& res) {
    std::lock_guard lock(mu);
    names.insert(ThreadName());
    res.set_content("ok", "text/plain");
  });
  int port = server.bind_to_any_port("127.0.0.1");
  ASSERT_GT(port, 0);
  // Bound and listening: connections queue until the server accepts them.
  std::thread serving([&] { server.listen_after_bind(); });

  // Several connections, so both workers (and a reused one) serve.
  for (int i = 0; i < 6; ++i) {
    httplib::Client client("127.0.0.1", port);
    auto res = client.Get("/name");
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 200);
    EXPECT_EQ(res->body, "ok");
  }
  server.stop();
  serving.join();
  EXPECT_EQ(names, std::set<std::string>{"http"});
}

TEST(HttpWorkerPoolTest, IdleWorkersAreNamedToo) {
  std::set<pid_t> before = TaskIds();
  {
    HttpWorkerPool pool(3);
    int named = 0;
    for (pid_t tid : TaskIds()) {
      if (!before.contains(tid) && TaskName(tid) == "http") ++named;
    }
    EXPECT_EQ(named, 3);
    pool.shutdown();
  }
}

}  // namespace
}  // namespace tessera
