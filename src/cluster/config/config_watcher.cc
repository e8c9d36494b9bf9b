#include "cluster/config/config_watcher.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "common/object_name.h"
#include "common/thread_name.h"

namespace tessera::cluster::config {

Result<std::unique_ptr<ConfigWatcher>> ConfigWatcher::Create(EtcdClient* client, std::string root,
                                                             std::string array_id, ApplyFn apply,
                                                             ConfigWatcherOptions options) {
  RETURN_IF_ERROR(ValidateArrayId(array_id));
  ConfigStore store(client, root);
  ASSIGN_OR_RETURN(ConfigSnapshot initial, store.Load(array_id));
  for (const auto& [name, status] : initial.errors) {
    const SettingDef* def = FindSetting(name);
    if (def == nullptr || def->kind != SettingKind::kLive) {
      return status.WithContext("setting " + name);
    }
    // As a running node keeps its running value, a starting one runs with
    // the default: one bad live value must not keep the cluster down.
    ASSIGN_OR_RETURN(SettingValue fallback, ParseSettingValue(*def, def->default_value));
    spdlog::warn("config: setting {}: {}; running with the default {}", name, status.message(),
                 QuoteForMessage(fallback.canonical));
    initial.values[name] = ResolvedSetting{std::move(fallback), "default", ""};
  }
  std::unique_ptr<ConfigWatcher> w(new ConfigWatcher(
      client, std::move(root), std::move(array_id), std::move(apply), options, std::move(initial)));
  WatchOptions watch;
  watch.key = w->store_.AbsoluteKey(config_keys::kUpdate);
  watch.start_revision = w->initial_.revision + 1;
  watch.idle_timeout = options.watch_idle_timeout;
  watch.retry_delay = options.retry_delay;
  ConfigWatcher* self = w.get();
  w->worker_ = std::thread([self] {
    SetThreadName("config-watch");
    self->Work();
  });
  w->watcher_ =
      std::make_unique<Watcher>(client, watch, [self](const WatchUpdate& u) { self->OnWatch(u); });
  return w;
}

ConfigWatcher::ConfigWatcher(EtcdClient* client, std::string root, std::string array_id,
                             ApplyFn apply, ConfigWatcherOptions options, ConfigSnapshot initial)
    : store_(client, std::move(root)),
      array_id_(std::move(array_id)),
      apply_(std::move(apply)),
      options_(options),
      initial_(std::move(initial)) {
  for (const auto& [name, resolved] : initial_.values) running_.emplace(name, resolved.value);
  handled_revision_ = initial_.update_revision;
}

ConfigWatcher::~ConfigWatcher() { Stop(); }

void ConfigWatcher::Stop() {
  if (watcher_) watcher_->Stop();
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (worker_.joinable()) worker_.join();
}

std::map<std::string, SettingValue> ConfigWatcher::running() const {
  std::lock_guard<std::mutex> lock(mu_);
  return running_;
}

std::string ConfigWatcher::last_feedback() const {
  std::lock_guard<std::mutex> lock(mu_);
  return last_feedback_;
}

int64_t ConfigWatcher::updates_handled() const {
  std::lock_guard<std::mutex> lock(mu_);
  return updates_handled_;
}

void ConfigWatcher::OnWatch(const WatchUpdate& update) {
  int64_t newest = 0;
  for (const WatchEvent& e : update.events) {
    if (e.type == WatchEvent::Type::kPut) newest = std::max(newest, e.kv.mod_revision);
  }
  for (const KeyValue& kv : update.snapshot) newest = std::max(newest, kv.mod_revision);
  if (newest == 0) return;
  {
    std::lock_guard<std::mutex> lock(mu_);
    pending_revision_ = std::max(pending_revision_, newest);
  }
  cv_.notify_all();
}

void ConfigWatcher::Work() {
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    cv_.wait(lock, [this] { return stopping_ || pending_revision_ > handled_revision_; });
    if (stopping_) return;
    int64_t target = pending_revision_;
    lock.unlock();
    Status st = HandleUpdate();
    lock.lock();
    if (st.ok()) {
      // HandleUpdate read at least `target`; later bumps need another pass.
      handled_revision_ = std::max(handled_revision_, target);
      continue;
    }
    spdlog::warn("config: handling update {} failed, retrying: {}", target, st.ToString());
    cv_.wait_for(lock, options_.retry_delay, [this] { return stopping_; });
    if (stopping_) return;
  }
}

Status ConfigWatcher::HandleUpdate() {
  ASSIGN_OR_RETURN(ConfigSnapshot snapshot, store_.Load(array_id_));
  nlohmann::json applied = nlohmann::json::array();
  nlohmann::json pending_restart = nlohmann::json::array();
  nlohmann::json ignored_immutable = nlohmann::json::array();
  nlohmann::json errors = nlohmann::json::array();
  std::map<std::string, SettingValue> running = this->running();
  for (const SettingDef& def : SettingRegistry()) {
    std::string name(def.name);
    auto error = snapshot.errors.find(name);
    if (error != snapshot.errors.end()) {
      errors.push_back(name + ": " + error->second.message());
      continue;
    }
    const SettingValue& wanted = snapshot.values.at(name).value;
    if (running.count(name) && running.at(name) == wanted) continue;
    switch (def.kind) {
      case SettingKind::kLive: {
        Status st = apply_ ? apply_(name, wanted) : Status::Ok();
        if (st.ok()) {
          if (std::find(unreported_applied_.begin(), unreported_applied_.end(), name) ==
              unreported_applied_.end()) {
            unreported_applied_.push_back(name);
          }
          std::lock_guard<std::mutex> lock(mu_);
          running_[name] = wanted;
        } else {
          errors.push_back(name + ": " + st.message());
        }
        break;
      }
      case SettingKind::kRestart:
        pending_restart.push_back(name);
        break;
      case SettingKind::kImmutable:
        ignored_immutable.push_back(name);
        break;
    }
  }
  for (const std::string& name : unreported_applied_) applied.push_back(name);
  nlohmann::json feedback = {{"array_id", array_id_},
                             {"update_revision", snapshot.update_revision},
                             {"applied", applied},
                             {"pending_restart", pending_restart},
                             {"ignored_immutable", ignored_immutable},
                             {"errors", errors}};
  // An apply error may quote anything; feedback must still be valid JSON.
  std::string text = feedback.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  {
    std::lock_guard<std::mutex> lock(mu_);
    last_feedback_ = text;
  }
  if (!applied.empty() || !ignored_immutable.empty() || !pending_restart.empty()) {
    spdlog::info("config: update {}: {}", snapshot.update_revision, text);
  }
  // If this write fails the update is handled again; settings applied now
  // stay in unreported_applied_ so the retried feedback still lists them.
  RETURN_IF_ERROR(store_.WriteFeedback(array_id_, text));
  unreported_applied_.clear();
  std::lock_guard<std::mutex> lock(mu_);
  ++updates_handled_;
  return Status::Ok();
}

}  // namespace tessera::cluster::config
