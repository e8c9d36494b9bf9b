#include "tests/support/images_process.h"

#include <httplib.h>
#include <signal.h>
#include <sys/wait.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>

#include "tests/support/node_process.h"

namespace tessera::testing {

ImagesProcess::ImagesProcess(std::string node_url, std::string log_path,
                             std::vector<std::string> extra_args)
    : node_url_(std::move(node_url)),
      log_path_(std::move(log_path)),
      extra_args_(std::move(extra_args)) {}

ImagesProcess::~ImagesProcess() { Kill(); }

bool ImagesProcess::Start(std::string* why) {
  std::string ignored;
  if (why == nullptr) why = &ignored;
  if (port_ == 0) port_ = FreePort();  // a restart keeps its address
  std::vector<std::string> args = {TesseraBinary(), "images", "--listen",
                                   "127.0.0.1:" + std::to_string(port_)};
  if (!node_url_.empty()) args.insert(args.end(), {"--node", node_url_});
  args.insert(args.end(), extra_args_.begin(), extra_args_.end());
  pid_ = SpawnWithLog(std::move(args), log_path_, why);
  if (pid_ < 0) return false;
  httplib::Client client("127.0.0.1", port_);
  client.set_connection_timeout(0, 200000);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (std::chrono::steady_clock::now() < deadline) {
    if (!Alive()) {
      *why = "tessera images exited; log:\n" + ReadLog();
      return false;
    }
    auto res = client.Get("/versions");
    if (res && res->status == 200) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  *why = "tessera images did not answer GET /versions within 30 s";
  return false;
}

void ImagesProcess::Kill() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  int status = 0;
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
}

bool ImagesProcess::Alive() {
  if (pid_ <= 0) return false;
  int status = 0;
  if (::waitpid(pid_, &status, WNOHANG) == pid_) {
    pid_ = -1;
    return false;
  }
  return true;
}

std::string ImagesProcess::ReadLog() const {
  std::ifstream in(log_path_);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace tessera::testing
